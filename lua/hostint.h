/* hostint.h: what lua/host.c and lua/api.c share inside the Lua host (not a public API). */
#ifndef LUMEN_HOSTINT_H
#define LUMEN_HOSTINT_H

#include <lauxlib.h>
#include <lua.h>

#include "host.h"
#include "report.h"

/* Predictions of one model aligned to frame rows (NAN where the patient has none). */
typedef struct host_preds {
	char *name;
	double *risk, *outcome;
} host_preds;

/* A stored model loaded for :predict and :explain, with its mean baseline (NULL until used). */
struct model;
typedef struct host_model {
	struct model *m;
	float *baseline;
} host_model;

struct host {
	lua_State *L;
	sqlite3 *db;
	const frame *fr;
	frame own;
	int owns_frame;
	size_t cap, used;           /* allocator cap and bytes in use */
	size_t extra;               /* C memory a script made (report content), within cap */
	int mem_soft;               /* used + extra crossed the soft limit: the hook reports it */
	char oom_where[160];        /* "file:line: " of the last allocation the cap refused */
	double timeout, deadline;   /* seconds; deadline is INFINITY outside a run */
	int timed_out;              /* the hook fired in this run: it fires on every instruction */
	int verbose;
	void (*print)(void *ud, const char *line);
	void *print_ud;
	report rep;
	int default_model;          /* index in preds or -1 */
	int npreds;
	host_preds *preds;
	int colidx_ref;             /* registry: column name -> frame column index */
	int nmodels;
	host_model *models;
};

/* A patient object: a row of the host's frame seen through one model's predictions. */
typedef struct host_patient {
	long row;
	int model; /* index in host.preds or -1 */
} host_patient;

#define HOST_PATIENT_MT "lumen.patient"

static inline host *host_of(lua_State *L) { return *(host **)lua_getextraspace(L); }

/* api.c */
/* Pushes a new `lumen` table (patients, count, columns, models, model, ...) and `report` table:
 * sets both as fields of the table at index env. */
void host_api_install(lua_State *L, int env);
/* Registers the patient metatable (called once at setup). */
void host_api_setup(lua_State *L);
/* Pushes a new patient object for row with model index mi. */
host_patient *host_push_patient(lua_State *L, long row, int mi);
/* Index of the model's predictions in h->preds, loading them (raises a Lua error if unknown). */
int host_model_index(lua_State *L, const char *name);
/* Loads predictions of a model by name into h->preds; returns the index or -1 with err. */
int host_preds_load(host *h, const char *name, lm_err *err);

/* Pushes a cJSON tree as Lua values (objects and arrays as tables, null as nil). */
struct cJSON;
void host_push_json(lua_State *L, const struct cJSON *j);

/* api_effect.c: lumen.effect{model = NAME, arm =, by =, explain =, top =, patient =} */
int host_l_effect(lua_State *L);

/* api_model.c: sets m:curves, m:importance and m:attributions on the model table on top */
void host_model_methods(lua_State *L);

/* api_report.c: the functions of the `report` table (NULL-terminated) */
extern const luaL_Reg host_report_funcs[];

/* host.c */
/* Raises the time-limit error (at the calling script's line) once the run's deadline has
 * passed, or the memory error once the soft memory limit is crossed: C code reachable from a
 * script that can run long or allocate much calls it in its loops. */
void host_check_deadline(lua_State *L);
/* Counts bytes of C memory a script causes against the cap (kept when keep, e.g. report
 * content; else only checked, for a transient buffer); raises "SCRIPT:LINE: not enough
 * memory (the limit is N MB)" when it does not fit. */
void host_charge(lua_State *L, size_t bytes, int keep);
/* Pushes a fresh sandbox global table. */
void host_push_env(lua_State *L);

#endif
