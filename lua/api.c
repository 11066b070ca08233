/* api.c: the `lumen` table a script sees and the patient objects (the `report` table is in api_report.c). */
#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../explain/ig.h"
#include "../src/data/visits_enc.h"
#include "../src/nn/model.h"
#include "../src/stats/audit.h"
#include "../src/stats/audit_why.h"
#include "../src/stats/groups.h"
#include "../src/ops/ops.h"
#include "../src/stats/km.h"
#include "../src/data/labels.h"
#include "hostint.h"

/* ---- predictions ---- */

static long frame_row_of(const frame *fr, long rowid)
{
	long lo = 0, hi = fr->nrow - 1;
	while (lo <= hi) {
		long mid = lo + (hi - lo) / 2;
		if (fr->rowid[mid] == rowid)
			return mid;
		if (fr->rowid[mid] < rowid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

int host_preds_load(host *h, const char *name, lm_err *err)
{
	for (int i = 0; i < h->npreds; i++)
		if (!strcmp(h->preds[i].name, name))
			return i;
	const frame *fr = host_frame(h, err);
	if (!fr)
		return -1;
	ops_predictions pr; /* the one reader: every patient in rowid order, as the frame */
	if (ops_predictions_load(h->db, name, &pr, err)) {
		ops_predictions_free(&pr);
		return -1;
	}
	size_t n = (size_t)(fr->nrow ? fr->nrow : 1);
	host_preds p = {xstrdup(name), xmallocarray(n, sizeof(double)),
			xmallocarray(n, sizeof(double))};
	for (size_t i = 0; i < n; i++)
		p.risk[i] = p.outcome[i] = NAN;
	for (long i = 0; i < pr.n; i++) {
		long r = frame_row_of(fr, pr.rowid[i]);
		if (r < 0)
			continue;
		p.risk[r] = pr.p[i];
		p.outcome[r] = pr.y[i];
	}
	ops_predictions_free(&pr);
	h->preds = xreallocarray(h->preds, (size_t)h->npreds + 1, sizeof *h->preds);
	h->preds[h->npreds] = p;
	return h->npreds++;
}

int host_model_index(lua_State *L, const char *name)
{
	lm_err e = {0};
	int i = host_preds_load(host_of(L), name, &e);
	if (i < 0)
		luaL_error(L, "%s", e.msg);
	return i;
}

static void register_loaded(lua_State *L);

/* ---- patient objects ---- */

static const frame *need_frame(lua_State *L)
{
	lm_err e = {0};
	const frame *fr = host_frame(host_of(L), &e);
	if (!fr)
		luaL_error(L, "%s", e.msg);
	return fr;
}

/* Pushes the registry's table column name -> frame column index (built on first use). */
static void push_colidx(lua_State *L)
{
	host *h = host_of(L);
	if (h->colidx_ref == LUA_NOREF) {
		const frame *fr = need_frame(L);
		lua_createtable(L, 0, fr->ncol);
		for (int c = 0; c < fr->ncol; c++) {
			lua_pushinteger(L, c);
			lua_setfield(L, -2, fr->cols.c[c].name);
		}
		h->colidx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, h->colidx_ref);
}

static void push_cell(lua_State *L, const frame *fr, int c, long r)
{
	const frame_col *fc = &fr->col[c];
	if (fc->str) {
		if (fc->str[r])
			lua_pushstring(L, fc->str[r]);
		else
			lua_pushnil(L);
		return;
	}
	double v = fc->v[r];
	if (isnan(v)) {
		lua_pushnil(L);
		return;
	}
	switch (fc->meta->type) {
	case COL_TYPE_TEXT: {
		int k = (int)v;
		if (k >= 0 && k < fc->meta->ncat)
			lua_pushstring(L, fc->meta->cats[k]);
		else
			lua_pushnil(L);
		break;
	}
	case COL_TYPE_BOOLEAN: lua_pushboolean(L, v != 0); break;
	case COL_TYPE_INTEGER:
		if (v >= -9.0e15 && v <= 9.0e15 && v == floor(v))
			lua_pushinteger(L, (lua_Integer)v);
		else
			lua_pushnumber(L, v);
		break;
	case COL_TYPE_REAL: lua_pushnumber(L, v); break;
	}
}

/* Pushes field key of patient pa (a column, rowid, risk, label, outcome); 0 when none. */
static int patient_field(lua_State *L, const host_patient *pa, int key)
{
	host *h = host_of(L);
	push_colidx(L);
	lua_pushvalue(L, key);
	if (lua_rawget(L, -2) == LUA_TNUMBER) {
		int c = (int)lua_tointeger(L, -1);
		lua_pop(L, 2);
		push_cell(L, h->fr, c, pa->row);
		return 1;
	}
	lua_pop(L, 2);
	const char *k = lua_tostring(L, key);
	if (!k)
		return 0;
	if (!strcmp(k, "rowid")) {
		lua_pushinteger(L, h->fr->rowid[pa->row]);
		return 1;
	}
	int is_risk = !strcmp(k, "risk"), is_label = !strcmp(k, "label"),
	    is_outcome = !strcmp(k, "outcome");
	if (!is_risk && !is_label && !is_outcome)
		return 0;
	if (pa->model < 0)
		return luaL_error(L, "'%s' needs a model: lumen.patients{model = NAME} or --model",
				  k);
	const host_preds *p = &h->preds[pa->model];
	double v = is_outcome ? p->outcome[pa->row] : p->risk[pa->row];
	if (isnan(v))
		lua_pushnil(L);
	else if (is_risk)
		lua_pushnumber(L, v);
	else if (is_label)
		lua_pushinteger(L, v >= 0.5);
	else
		lua_pushinteger(L, (lua_Integer)v);
	return 1;
}

static int patient_index(lua_State *L)
{
	host_patient *pa = luaL_checkudata(L, 1, HOST_PATIENT_MT);
	if (lua_type(L, 2) != LUA_TSTRING)
		return luaL_error(L, "a patient's fields are named by strings (got a %s)",
				  luaL_typename(L, 2));
	if (!patient_field(L, pa, 2))
		return luaL_error(L, "a patient has no field '%s' (lumen.columns() lists them)",
				  lua_tostring(L, 2));
	return 1;
}

static int patient_newindex(lua_State *L)
{
	return luaL_error(L, "patients are read-only (cannot set '%s'); copy the values into a "
			     "table for a what-if", luaL_tolstring(L, 2, NULL));
}

static int patient_tostring(lua_State *L)
{
	host_patient *pa = luaL_checkudata(L, 1, HOST_PATIENT_MT);
	lua_pushfstring(L, "patient %d", (int)host_of(L)->fr->rowid[pa->row]);
	return 1;
}

host_patient *host_push_patient(lua_State *L, long row, int mi)
{
	host_patient *pa = lua_newuserdatauv(L, sizeof *pa, 0);
	pa->row = row;
	pa->model = mi;
	luaL_setmetatable(L, HOST_PATIENT_MT);
	return pa;
}

void host_api_setup(lua_State *L)
{
	register_loaded(L);
	luaL_newmetatable(L, HOST_PATIENT_MT);
	static const luaL_Reg mt[] = {{"__index", patient_index},
				      {"__newindex", patient_newindex},
				      {"__tostring", patient_tostring},
				      {NULL, NULL}};
	luaL_setfuncs(L, mt, 0);
	lua_pushliteral(L, "patient");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
}

/* ---- lumen.patients / lumen.count ---- */

typedef struct iter_state {
	long next;
	int model;
} iter_state;

/* Reads {where=, model=} at index 1 and pushes: state userdata, filter function (or nil),
 * the reusable patient object. */
static void push_selection(lua_State *L, const char *fname, const char *extra)
{
	host *h = host_of(L);
	need_frame(L);
	if (!lua_isnoneornil(L, 1))
		luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	int mi = h->default_model;
	if (lua_istable(L, 1)) {
		lua_pushnil(L);
		while (lua_next(L, 1)) {
			const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
			int known = k && (!strcmp(k, "where") || !strcmp(k, "model"));
			if (k && extra) { /* a comma-separated list of further option names */
				size_t kl = strlen(k);
				for (const char *e = extra; *e && !known;) {
					size_t el = strcspn(e, ",");
					known = el == kl && !strncmp(e, k, kl);
					e += el + (e[el] == ',');
				}
			}
			if (!known)
				luaL_error(L, "%s: unknown option '%s' (where, model%s%s)", fname,
					   luaL_tolstring(L, -2, NULL), extra ? ", " : "",
					   extra ? extra : "");
			lua_pop(L, 1);
		}
		if (lua_getfield(L, 1, "model") != LUA_TNIL) {
			if (lua_type(L, -1) != LUA_TSTRING)
				luaL_error(L, "%s: model must be a string (got a %s)", fname,
					   luaL_typename(L, -1));
			mi = host_model_index(L, lua_tostring(L, -1));
		}
		lua_pop(L, 1);
	}
	iter_state *s = lua_newuserdatauv(L, sizeof *s, 0); /* 2 */
	s->next = 0;
	s->model = mi;
	int t = lua_istable(L, 1) ? lua_getfield(L, 1, "where") : (lua_pushnil(L), LUA_TNIL);
	if (t == LUA_TSTRING) {
		/* the filter language (ops_filter): its answers as a mask over the frame's rows,
		 * kept as a userdata in the function's slot */
		const char *expr = lua_tostring(L, -1);
		lm_err e = {0};
		ops_filter *f = ops_filter_compile(h->db, expr, mi >= 0 ? h->preds[mi].name : NULL, &e);
		ops_selection sel;
		if (!f)
			luaL_error(L, "%s", e.msg);
		if (ops_filter_run(f, h->db, &sel, &e)) {
			ops_selection_free(&sel);
			ops_filter_free(f);
			luaL_error(L, "%s", e.msg);
		}
		ops_filter_free(f);
		lua_pop(L, 1);
		unsigned char *mask = lua_newuserdatauv(L, (size_t)(sel.nrow ? sel.nrow : 1), 0);
		memcpy(mask, sel.mask, (size_t)sel.nrow);
		long nrow = sel.nrow;
		ops_selection_free(&sel);
		if (nrow != h->fr->nrow)
			luaL_error(L, "%s: the patients changed while the script ran", fname);
		host_push_patient(L, 0, mi);
	} else if (t == LUA_TFUNCTION || t == LUA_TNIL) {
		host_push_patient(L, 0, mi);
	} else {
		luaL_error(L, "%s: where must be an expression string or a function (got a %s)",
			   fname, lua_typename(L, t));
	}
}

/* Advances to the next matching row; -1 at the end. Stack: 1 state, 2 fn, 3 patient. */
static long next_match(lua_State *L, int st, int fn, int pat)
{
	const frame *fr = host_of(L)->fr;
	iter_state *s = lua_touserdata(L, st);
	host_patient *pa = lua_touserdata(L, pat);
	int has_fn = lua_isfunction(L, fn);
	const unsigned char *mask = lua_type(L, fn) == LUA_TUSERDATA ? lua_touserdata(L, fn) : NULL;
	while (s->next < fr->nrow) {
		long r = s->next++;
		if ((r & 4095) == 0)
			host_check_deadline(L);
		if (mask) {
			if (mask[r])
				return r;
			continue;
		}
		if (!has_fn)
			return r;
		pa->row = r;
		lua_pushvalue(L, fn);
		lua_pushvalue(L, pat);
		lua_call(L, 1, 1);
		int m = lua_toboolean(L, -1);
		lua_pop(L, 1);
		if (m)
			return r;
	}
	return -1;
}

static int patients_iter(lua_State *L)
{
	long r = next_match(L, lua_upvalueindex(1), lua_upvalueindex(2), lua_upvalueindex(3));
	if (r < 0)
		return 0;
	iter_state *s = lua_touserdata(L, lua_upvalueindex(1));
	host_push_patient(L, r, s->model);
	return 1;
}

static int l_patients(lua_State *L)
{
	push_selection(L, "lumen.patients", NULL);
	lua_pushcclosure(L, patients_iter, 3);
	return 1;
}

static int l_count(lua_State *L)
{
	push_selection(L, "lumen.count", NULL);
	lua_Integer n = 0;
	while (next_match(L, 2, 3, 4) >= 0)
		n++;
	lua_pushinteger(L, n);
	return 1;
}

/* ---- lumen.survival ---- */

static void set_num(lua_State *L, const char *k, double v);

static int opt_column(lua_State *L, const frame *fr, const char *key, int required)
{
	int t = lua_getfield(L, 1, key);
	if (t == LUA_TNIL && !required) {
		lua_pop(L, 1);
		return -1;
	}
	if (t != LUA_TSTRING)
		luaL_error(L, "lumen.survival: %s must be a column name (got a %s)", key,
			   lua_typename(L, t));
	int c = frame_find(fr, lua_tostring(L, -1));
	if (c < 0)
		luaL_error(L, "lumen.survival: no column '%s'", lua_tostring(L, -1));
	lua_pop(L, 1);
	return c;
}

static void set_list(lua_State *L, const char *key, const double *v, long n)
{
	lua_createtable(L, (int)n, 0);
	for (long i = 0; i < n; i++) {
		if (isnan(v[i]))
			lua_pushboolean(L, 0); /* keeps the list without holes; documented */
		else
			lua_pushnumber(L, v[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, key);
}

/* Reads the patients selected by {where=, model=} into mask (frame rows); returns how many.
 * Stack as push_selection leaves it (state, fn or mask, patient) at st. */
static long selection_mask(lua_State *L, int st, unsigned char *mask)
{
	long r, n = 0;
	while ((r = next_match(L, st, st + 1, st + 2)) >= 0) {
		mask[r] = 1;
		n++;
	}
	return n;
}

/* lumen.survival{time=, event=, event_value=, by=, where=} -> Kaplan-Meier curves per group
 * and the log-rank test: ops_survival_run, the function behind `lumen survival`, so `by`
 * may also be "risk:MODEL[:K]" (the same risk strata). */
static int l_survival(lua_State *L)
{
	host *h = host_of(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	const frame *fr = need_frame(L);
	int ct = opt_column(L, fr, "time", 1), ce = opt_column(L, fr, "event", 1);
	char by[256] = "";
	if (lua_getfield(L, 1, "by") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_error(L, "lumen.survival: by must be a column name or risk:MODEL[:K]");
		snprintf(by, sizeof by, "%s", lua_tostring(L, -1));
		if (strncmp(by, "risk:", 5) && !strchr(by, ',') && frame_find(fr, by) < 0)
			return luaL_error(L, "lumen.survival: no column '%s'", by);
	}
	lua_pop(L, 1);
	const store_column *em = fr->col[ce].meta;
	char event[512];
	if (lua_getfield(L, 1, "event_value") != LUA_TNIL) {
		if (lua_type(L, -1) == LUA_TNUMBER)
			snprintf(event, sizeof event, "%s=%.17g", em->name, lua_tonumber(L, -1));
		else if (lua_type(L, -1) == LUA_TSTRING)
			snprintf(event, sizeof event, "%s=%s", em->name, lua_tostring(L, -1));
		else
			return luaL_error(L, "lumen.survival: event_value must be a number or a label");
	} else if (em->type == COL_TYPE_TEXT || fr->col[ce].str) {
		return luaL_error(L, "lumen.survival: %s is text; name the event: event_value = V",
				  em->name);
	} else {
		snprintf(event, sizeof event, "%s", em->name);
	}
	lua_pop(L, 1);
	const char *time = fr->cols.c[ct].name;
	push_selection(L, "lumen.survival", "time,event,event_value,by");
	int st = lua_gettop(L) - 2;
	unsigned char *mask = lua_newuserdatauv(L, (size_t)(fr->nrow ? fr->nrow : 1), 0);
	memset(mask, 0, (size_t)(fr->nrow ? fr->nrow : 1));
	long nsel = selection_mask(L, st, mask);
	ops_selection sel = {.nrow = fr->nrow, .n = nsel, .mask = mask, .rowid = fr->rowid};
	ops_survival_opts so = {.time = time, .event = event, .by = by[0] ? by : NULL, .where = &sel};
	ops_survival d;
	lm_err e = {0};
	int rc = ops_survival_run(h->db, &so, &d, &e);
	if (rc) {
		ops_survival_free(&d);
		if (strstr(e.msg, "more than two values"))
			return luaL_error(L, "lumen.survival: %s has more than two values; name the "
					     "event: event_value = V", em->name);
		return luaL_error(L, "lumen.survival: %s", e.msg);
	}
	lua_createtable(L, 0, 4);
	int res = lua_gettop(L);
	lua_createtable(L, d.G, 0);
	for (int g = 0; g < d.G; g++) {
		const km_curve *c = &d.curve[g];
		lua_createtable(L, 0, 12);
		lua_pushstring(L, d.label[g]);
		lua_setfield(L, -2, "group");
		lua_pushinteger(L, c->n);
		lua_setfield(L, -2, "n");
		lua_pushinteger(L, c->events);
		lua_setfield(L, -2, "events");
		set_num(L, "median", c->median);
		set_num(L, "median_lower", c->median_lower);
		set_num(L, "median_upper", c->median_upper);
		set_list(L, "time", c->time, c->m);
		set_list(L, "surv", c->surv, c->m);
		set_list(L, "lower", c->lower, c->m);
		set_list(L, "upper", c->upper, c->m);
		lua_createtable(L, (int)c->m, 0);
		for (long k = 0; k < c->m; k++) {
			lua_pushinteger(L, c->n_risk[k]);
			lua_rawseti(L, -2, (lua_Integer)k + 1);
		}
		lua_setfield(L, -2, "n_risk");
		lua_createtable(L, (int)c->m, 0);
		for (long k = 0; k < c->m; k++) {
			lua_pushinteger(L, c->n_censor[k]);
			lua_rawseti(L, -2, (lua_Integer)k + 1);
		}
		lua_setfield(L, -2, "n_censor");
		lua_rawseti(L, -2, g + 1);
	}
	lua_setfield(L, res, "curves");
	if (d.have_lr) {
		lua_createtable(L, 0, 3);
		lua_pushnumber(L, d.lr.chisq);
		lua_setfield(L, -2, "chisq");
		lua_pushinteger(L, d.lr.df);
		lua_setfield(L, -2, "df");
		lua_pushnumber(L, d.lr.p);
		lua_setfield(L, -2, "p");
		lua_setfield(L, res, "logrank");
	}
	if (d.K) {
		lua_createtable(L, d.K - 1, 0);
		for (int k = 1; k < d.K; k++) {
			lua_pushnumber(L, d.cut[k]);
			lua_rawseti(L, -2, k);
		}
		lua_setfield(L, res, "cuts");
	}
	lua_pushinteger(L, nsel - d.n);
	lua_setfield(L, res, "left_out");
	lua_pushinteger(L, d.n);
	lua_setfield(L, res, "n");
	lua_pushinteger(L, d.events);
	lua_setfield(L, res, "events");
	ops_survival_free(&d);
	return 1;
}

/* ---- lumen.audit ---- */

static void push_json(lua_State *L, const cJSON *j, int depth);

static double opt_number(lua_State *L, const char *key, double def)
{
	int t = lua_getfield(L, 1, key);
	double v = def;
	if (t == LUA_TNUMBER)
		v = lua_tonumber(L, -1);
	else if (t != LUA_TNIL)
		luaL_error(L, "lumen.audit: %s must be a number (got a %s)", key, lua_typename(L, t));
	lua_pop(L, 1);
	return v;
}

/* lumen.audit{model=, by=, bins=, threshold=, tolerance=, bootstrap=, seed=, reference=}: the
 * audit of `lumen audit --json` (audit.c) over the model's stored out-of-fold predictions, with
 * the same options, the same checks and the same left_out counts, and `why` (audit_why.h: the
 * importance per group and the warnings, ranked) over the same patients. */
/* The bootstrap's buffers against the script's memory cap (before_run of ops_audit_run). */
typedef struct audit_charge {
	const host *h;
	int n_boot;
	int over;
	size_t bytes;
} audit_charge;

static int audit_fits(void *ctx, int ngroups)
{
	audit_charge *c = ctx;
	if (c->n_boot <= 0)
		return 0;
	c->bytes = (3 * sizeof(double) * (size_t)ngroups * AUDIT_NMETRIC + 64) * (size_t)c->n_boot;
	const host *h = c->h;
	c->over = c->bytes > h->cap || h->used + h->extra + c->bytes > h->cap;
	return c->over ? EX_SOFTWARE : 0;
}

static int l_audit(lua_State *L)
{
	host *h = host_of(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	const frame *fr = need_frame(L);
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		static const char *const ok[] = {"model", "by", "bins", "threshold", "tolerance",
						 "bootstrap", "seed", "reference"};
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
		int known = 0;
		for (size_t i = 0; i < LM_ARRAY_LEN(ok); i++)
			known |= !strcmp(k, ok[i]);
		if (!known)
			return luaL_error(L, "lumen.audit: unknown option '%s' (model, by, bins, "
					     "threshold, tolerance, bootstrap, seed, reference)",
					  luaL_tolstring(L, -2, NULL));
		lua_pop(L, 1);
	}
	int mi = h->default_model;
	if (lua_getfield(L, 1, "model") == LUA_TSTRING)
		mi = host_model_index(L, lua_tostring(L, -1));
	else if (!lua_isnil(L, -1))
		return luaL_error(L, "lumen.audit: model must be a string");
	lua_pop(L, 1);
	if (mi < 0)
		return luaL_error(L, "lumen.audit: which model? give model = NAME");
	const char *mname = h->preds[mi].name;
	if (lua_getfield(L, 1, "by") != LUA_TSTRING)
		return luaL_error(L, "lumen.audit: by must be a column name (or \"a,b\")");
	const char *by = lua_tostring(L, -1); /* stays on the stack */
	/* bins: "age=40,65" or a list of such strings. Each option is read once, and the strings
	 * are anchored in a table of our own: an __index (or a later option's __index changing
	 * the list) could otherwise free them while C holds them. */
	lua_newtable(L);
	int keep = lua_gettop(L);
	const char *bins[16];
	int nbins = 0;
	int t = lua_getfield(L, 1, "bins");
	if (t == LUA_TSTRING) {
		bins[nbins++] = lua_tostring(L, -1);
		lua_pushvalue(L, -1);
		lua_rawseti(L, keep, nbins);
	} else if (t == LUA_TTABLE) {
		size_t len = lua_rawlen(L, -1);
		if (len > LM_ARRAY_LEN(bins))
			return luaL_error(L, "lumen.audit: bins: at most %d", (int)LM_ARRAY_LEN(bins));
		for (size_t i = 1; i <= len; i++) {
			if (lua_rawgeti(L, -1, (lua_Integer)i) != LUA_TSTRING)
				return luaL_error(L, "lumen.audit: bins[%d] must be a string like "
						     "\"age=40,65\" (got a %s)", (int)i, luaL_typename(L, -1));
			bins[nbins++] = lua_tostring(L, -1);
			lua_rawseti(L, keep, nbins);
		}
	} else if (t != LUA_TNIL) {
		return luaL_error(L, "lumen.audit: bins must be a string like \"age=40,65\" or a "
				     "list of them (got a %s)", lua_typename(L, t));
	}
	lua_pop(L, 1);
	audit_opts o = {0};
	t = lua_getfield(L, 1, "threshold");
	if (t == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "youden"))
		o.youden = 1;
	else if (t == LUA_TSTRING)
		return luaL_error(L, "lumen.audit: threshold must be a number or \"youden\" (got '%s')",
				  lua_tostring(L, -1));
	else if (t == LUA_TNUMBER)
		o.threshold = lua_tonumber(L, -1);
	else if (t == LUA_TNIL)
		o.threshold = 0.5;
	else
		return luaL_error(L, "lumen.audit: threshold must be a number (got a %s)",
				  lua_typename(L, t));
	lua_pop(L, 1);
	if (o.youden)
		o.threshold = 0.5;
	o.tolerance = opt_number(L, "tolerance", 0.8);
	double nb = opt_number(L, "bootstrap", 0), seed = opt_number(L, "seed", 1);
	if (!o.youden && !(o.threshold > 0 && o.threshold < 1))
		return luaL_error(L, "lumen.audit: threshold must be \"youden\" or a number in (0,1)");
	if (!(o.tolerance > 0 && o.tolerance < 1))
		return luaL_error(L, "lumen.audit: tolerance must be a number in (0,1)");
	if (!(nb >= 0 && nb <= 100000) || nb != floor(nb))
		return luaL_error(L, "lumen.audit: bootstrap must be a whole number from 0 to 100000");
	if (!(seed >= 0) || seed != floor(seed))
		return luaL_error(L, "lumen.audit: seed must be a whole number >= 0");
	o.n_boot = (int)nb;
	o.seed = (uint64_t)seed;
	/* the CLI's thread count; the results do not depend on it (audit.h) */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	o.threads = ncpu > 1 ? (int)(ncpu < 8 ? ncpu : 8) : 1;
	o.ref = -1;
	const char *reference = NULL;
	t = lua_getfield(L, 1, "reference");
	if (t == LUA_TSTRING) {
		reference = lua_tostring(L, -1);
		lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1); /* anchored */
	} else if (t != LUA_TNIL) {
		return luaL_error(L, "lumen.audit: reference must be a group label like \"sex=m\"");
	} else {
		lua_pop(L, 1);
	}
	/* the audit of `lumen audit` (src/ops): the same patients, groups and figures. The
	 * bootstrap runs in C: it stops at the script's deadline, and its buffers (three values
	 * per replicate, group and metric) count against the memory cap */
	o.deadline = h->deadline;
	audit_charge ch = {h, o.n_boot, 0, 0};
	ops_audit_opts ao = {.model = mname, .by = by, .bins = (char *const *)bins, .nbins = nbins,
			     .a = o, .reference = reference, .before_run = audit_fits, .ctx = &ch};
	ops_audit d;
	lm_err e = {0};
	if (ops_audit_run(h->db, &ao, &d, &e)) {
		ops_audit_free(&d);
		if (ch.over)
			host_charge(L, ch.bytes, 0); /* raises the memory error at script:line */
		host_check_deadline(L);
		if (reference && !strncmp(e.msg, "--reference: no group", 21))
			return luaL_error(L, "lumen.audit: no group '%s'", reference);
		return luaL_error(L, "lumen.audit: %s", e.msg);
	}
	cJSON *j = ops_audit_json(&d);
	long n = d.nrow;
	(void)fr;
	/* "why the groups differ" (audit_why.h), over the patients the audit used */
	audit_why w;
	if (audit_why_compute(h->db, d.model_id, d.rowid, d.group, n, d.g.n, by, &w, &e)) {
		audit_why_free(&w);
		ops_audit_free(&d);
		cJSON_Delete(j);
		return luaL_error(L, "lumen.audit: %s", e.msg);
	}
	cJSON_AddItemToObject(j, "why", audit_why_ranked_json(&w, d.g.label));
	audit_why_free(&w);
	ops_audit_free(&d);
	push_json(L, j, 0);
	cJSON_Delete(j);
	return 1;
}

/* ---- lumen.columns / models / model ---- */

static void set_num(lua_State *L, const char *k, double v)
{
	if (isnan(v))
		return;
	lua_pushnumber(L, v);
	lua_setfield(L, -2, k);
}

/* A column's unit and value labels (labels.h) into the table on top: unit = "mg/dl",
 * values = {{code = "1", label = "D-penicillamine"}, ...}, and title = the label or name. */
static void push_words(lua_State *L, const store_column *m)
{
	lua_pushstring(L, lbl_name(m));
	lua_setfield(L, -2, "title");
	if (m->unit) {
		lua_pushstring(L, m->unit);
		lua_setfield(L, -2, "unit");
	}
	if (m->nvl > 0) {
		lua_createtable(L, m->nvl, 0);
		for (int k = 0; k < m->nvl; k++) {
			lua_createtable(L, 0, 2);
			lua_pushstring(L, m->vl[k].code);
			lua_setfield(L, -2, "code");
			lua_pushstring(L, m->vl[k].text);
			lua_setfield(L, -2, "label");
			lua_rawseti(L, -2, k + 1);
		}
		lua_setfield(L, -2, "values");
	}
}

/* lumen.text(column, value) -> the value as every screen writes it (labels.h): its label,
 * "missing" for nil, a number in a clinician's digits with no e-notation. */
static int l_text(lua_State *L)
{
	const char *col = luaL_checkstring(L, 1);
	const frame *fr = need_frame(L);
	int c = frame_find(fr, col);
	if (c < 0)
		return luaL_error(L, "lumen.text: no column '%s'", col);
	const store_column *m = &fr->cols.c[c];
	char buf[160];
	double num = (double)NAN;
	const char *text = NULL;
	if (lua_type(L, 2) == LUA_TNUMBER)
		num = lua_tonumber(L, 2);
	else if (lua_type(L, 2) == LUA_TBOOLEAN)
		num = lua_toboolean(L, 2);
	else if (lua_type(L, 2) == LUA_TSTRING && m->type == COL_TYPE_TEXT)
		text = lua_tostring(L, 2);
	else if (lua_type(L, 2) == LUA_TSTRING && parse_double(lua_tostring(L, 2), &num))
		return luaL_error(L, "lumen.text: '%s' is not a number (%s)", lua_tostring(L, 2), col);
	lbl_text(m, num, text, buf, sizeof buf);
	if (m->unit && !isnan(num) && !lbl_is_category(m))
		lua_pushfstring(L, "%s %s", buf, m->unit);
	else
		lua_pushstring(L, buf);
	return 1;
}

static int l_columns(lua_State *L)
{
	const frame *fr = need_frame(L);
	lua_createtable(L, fr->ncol, 0);
	for (int c = 0; c < fr->ncol; c++) {
		const store_column *m = &fr->cols.c[c];
		lua_createtable(L, 0, 12);
		lua_pushstring(L, m->name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, store_type_name(m->type));
		lua_setfield(L, -2, "type");
		lua_pushstring(L, store_role_name(m->role));
		lua_setfield(L, -2, "role");
		lua_pushinteger(L, m->missing);
		lua_setfield(L, -2, "missing");
		lua_pushinteger(L, m->distinct);
		lua_setfield(L, -2, "distinct");
		set_num(L, "mean", m->mean);
		set_num(L, "sd", m->sd);
		set_num(L, "min", m->min);
		set_num(L, "max", m->max);
		if (m->label) {
			lua_pushstring(L, m->label);
			lua_setfield(L, -2, "label");
		}
		push_words(L, m);
		if (m->ncat > 0) {
			lua_createtable(L, m->ncat, 0);
			lua_createtable(L, 0, m->ncat);
			for (int k = 0; k < m->ncat; k++) {
				lua_pushstring(L, m->cats[k]);
				lua_rawseti(L, -3, k + 1);
				lua_pushinteger(L, m->cat_n[k]);
				lua_setfield(L, -2, m->cats[k]);
			}
			lua_setfield(L, -2, "counts");
			lua_setfield(L, -2, "categories");
		}
		lua_rawseti(L, -2, c + 1);
	}
	return 1;
}

static void push_json(lua_State *L, const cJSON *j, int depth)
{
	luaL_checkstack(L, 4, "JSON too deep");
	if (depth > 64 || !j || cJSON_IsNull(j)) {
		lua_pushnil(L);
	} else if (cJSON_IsBool(j)) {
		lua_pushboolean(L, cJSON_IsTrue(j));
	} else if (cJSON_IsNumber(j)) {
		double v = j->valuedouble;
		if (v == floor(v) && fabs(v) < 9.0e15)
			lua_pushinteger(L, (lua_Integer)v);
		else
			lua_pushnumber(L, v);
	} else if (cJSON_IsString(j)) {
		lua_pushstring(L, j->valuestring);
	} else if (cJSON_IsArray(j)) {
		lua_newtable(L);
		int i = 1;
		for (const cJSON *c = j->child; c; c = c->next) {
			push_json(L, c, depth + 1);
			lua_rawseti(L, -2, i++);
		}
	} else {
		lua_newtable(L);
		for (const cJSON *c = j->child; c; c = c->next) {
			push_json(L, c, depth + 1);
			lua_setfield(L, -2, c->string ? c->string : "");
		}
	}
}

void host_push_json(lua_State *L, const cJSON *j)
{
	push_json(L, j, 0);
}

static void push_json_text(lua_State *L, const char *text)
{
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	if (j)
		push_json(L, j, 0);
	else
		lua_pushnil(L);
	cJSON_Delete(j);
}

/* Pushes a table of a stored model's fields (ops_models_load's row). */
static void push_model_row(lua_State *L, const ops_model_row *r)
{
	lua_newtable(L);
	const char *const texts[][2] = {{"name", r->name},	   {"arch", r->arch},
					{"target", r->target},	   {"positive", r->positive},
					{"task", r->task},	   {"created_at", r->created_at}};
	for (int i = 0; i < (int)LM_ARRAY_LEN(texts); i++)
		if (texts[i][1]) {
			lua_pushstring(L, texts[i][1]);
			lua_setfield(L, -2, texts[i][0]);
		}
	lua_pushinteger(L, r->folds);
	lua_setfield(L, -2, "folds");
	lua_pushinteger(L, r->n_used);
	lua_setfield(L, -2, "n_used");
	lua_pushinteger(L, r->n_excluded);
	lua_setfield(L, -2, "n_excluded");
	if (r->has_seed) {
		lua_pushinteger(L, r->seed);
		lua_setfield(L, -2, "seed");
	}
}

static int l_models(lua_State *L)
{
	host *h = host_of(L);
	lm_err e = {0};
	ops_models ms;
	if (ops_models_load(h->db, NULL, &ms, &e)) {
		ops_models_free(&ms);
		return luaL_error(L, "%s", e.msg);
	}
	lua_newtable(L);
	for (int i = 0; i < ms.n; i++) {
		push_model_row(L, &ms.m[i]);
		lua_rawseti(L, -2, i + 1);
	}
	ops_models_free(&ms);
	return 1;
}

/* model:metrics(): the stored metrics (the JSON of `lumen models --json`) as a table. */
static int model_metrics(lua_State *L)
{
	if (lua_type(L, 1) != LUA_TTABLE || lua_getfield(L, 1, "__metrics") != LUA_TSTRING)
		return luaL_error(L, "model:metrics(): call it on a model from lumen.model(NAME)");
	push_json_text(L, lua_tostring(L, -1));
	return 1;
}

/* model:hyper(): the hyper-parameters as a table. */
static int model_hyper(lua_State *L)
{
	if (lua_type(L, 1) != LUA_TTABLE || lua_getfield(L, 1, "__hyper") != LUA_TSTRING)
		return luaL_error(L, "model:hyper(): call it on a model from lumen.model(NAME)");
	push_json_text(L, lua_tostring(L, -1));
	return 1;
}

/* The loaded model of a model object (self at index 1), loading it on first use. */
static host_model *model_of(lua_State *L, const char *method)
{
	host *h = host_of(L);
	if (lua_type(L, 1) != LUA_TTABLE || lua_getfield(L, 1, "name") != LUA_TSTRING)
		luaL_error(L, "model:%s(): call it on a model from lumen.model(NAME)", method);
	const char *name = lua_tostring(L, -1); /* left on the stack: anchored while used */
	for (int i = 0; i < h->nmodels; i++)
		if (!strcmp(h->models[i].m->name, name))
			return &h->models[i];
	lm_err e = {0};
	model *m = model_load(h->db, name, &e);
	if (!m)
		luaL_error(L, "%s", e.msg);
	h->models = xreallocarray(h->models, (size_t)h->nmodels + 1, sizeof *h->models);
	h->models[h->nmodels] = (host_model){m, NULL};
	return &h->models[h->nmodels++];
}

/* The model's input values for a patient object or a what-if table at index idx, by spec
 * column; in a userdata on the stack (freed by the collector). Text values point into the
 * frame or into strings anchored in a table pushed below the userdata: a what-if table may
 * compute its values in __index and drop them, so each is read once and kept. */
static enc_value *input_values(lua_State *L, const model *m, int idx, const char *method)
{
	idx = lua_absindex(L, idx);
	const enc_spec *sp = &m->spec;
	lua_newtable(L);
	int keep = lua_gettop(L);
	enc_value *v = lua_newuserdatauv(L, (size_t)(sp->ncolumn ? sp->ncolumn : 1) * sizeof *v, 0);
	host_patient *pa = luaL_testudata(L, idx, HOST_PATIENT_MT);
	if (!pa && lua_type(L, idx) != LUA_TTABLE)
		luaL_error(L, "model:%s(): wants a patient or a table of values (got a %s)", method,
			   luaL_typename(L, idx));
	const frame *fr = pa ? need_frame(L) : NULL;
	int nstatic = venc_static_columns(sp);
	if (pa && nstatic < sp->ncolumn && !fr->visits) {
		/* a sequence model reads the patient's visits: loaded once into the host's frame
		 * (frame_free frees them with it, whoever owns it) */
		lm_err e = {0};
		if (venc_attach(host_of(L)->db, (frame *)fr, &e))
			luaL_error(L, "model:%s(): %s", method, e.msg);
	}
	for (int j = 0; j < sp->ncolumn; j++) {
		v[j].num = NAN;
		v[j].text = NULL;
		v[j].visits = pa && j >= nstatic ? fr->visits : NULL; /* a table: no visits */
		v[j].rowid = pa ? fr->rowid[pa->row] : 0;
		if (j >= nstatic)
			continue;
		int is_text = sp->column_type[j] == COL_TYPE_TEXT;
		if (pa) {
			int c = frame_find(fr, sp->columns[j]);
			if (c < 0)
				continue;
			const frame_col *fc = &fr->col[c];
			double x = fc->v[pa->row];
			if (fc->str)
				v[j].text = fc->str[pa->row];
			else if (is_text && !isnan(x) && (int)x >= 0 && (int)x < fc->meta->ncat)
				v[j].text = fc->meta->cats[(int)x];
			else if (!is_text)
				v[j].num = x;
			continue;
		}
		int t = lua_getfield(L, idx, sp->columns[j]);
		if (t == LUA_TNIL) {
		} else if (is_text && (t == LUA_TSTRING || t == LUA_TNUMBER)) {
			v[j].text = lua_tostring(L, -1);
			lua_pushvalue(L, -1);
			lua_rawseti(L, keep, j + 1);
		} else if (!is_text && t == LUA_TNUMBER) {
			v[j].num = lua_tonumber(L, -1);
		} else if (!is_text && t == LUA_TBOOLEAN) {
			v[j].num = lua_toboolean(L, -1);
		} else {
			luaL_error(L, "model:%s(): '%s' must be %s (got a %s)", method, sp->columns[j],
				   is_text ? "a string" : "a number", lua_typename(L, t));
		}
		lua_pop(L, 1);
	}
	return v;
}

/* The network a patient object (or a what-if table carrying the patient's `rowid`, as
 * lumen.record makes it) is shown with: its fold model for a stored out-of-fold prediction,
 * else -1 (the final model: a new patient). The rule of src/ops/ops.h. */
/* The rowid of a patient argument (a patient object, or a table with a rowid field), or -1. */
static long rowid_of_arg(lua_State *L, int idx)
{
	host_patient *pa = luaL_testudata(L, idx, HOST_PATIENT_MT);
	long rowid = -1;
	if (pa) {
		rowid = need_frame(L)->rowid[pa->row];
	} else if (lua_type(L, idx) == LUA_TTABLE) {
		if (lua_getfield(L, idx, "rowid") == LUA_TNUMBER && lua_isinteger(L, -1))
			rowid = (long)lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	return rowid;
}

static int fold_of_arg(lua_State *L, const model *m, int idx)
{
	long rowid = rowid_of_arg(L, idx);
	return rowid >= 0 ? ops_patient_fold(host_of(L)->db, m, rowid) : -1;
}

/* model:predict(patient_or_table) -> the risk shown for it (probability of the positive
 * class), its logit, and the network: "fold K" (1-based) or "final". */
static int model_predict_l(lua_State *L)
{
	lua_settop(L, 2);
	host_model *hm = model_of(L, "predict");
	model *m = hm->m;
	host *h = host_of(L);
	long rowid = rowid_of_arg(L, 2);
	enc_value *vals = input_values(L, m, 2, "predict");
	double p, logit;
	int fold;
	lm_err e = {0};
	/* the rule of the patient view: its fold's network, and for a survival model the risk
	 * through the stored out-of-fold risk (ops_predict_values) */
	if (ops_predict_values(h->db, m, rowid, vals, &p, &logit, &fold, &e))
		return luaL_error(L, "model:predict(): %s", e.msg);
	lua_pushnumber(L, p);
	lua_pushnumber(L, logit);
	if (fold < 0)
		lua_pushliteral(L, "final");
	else
		lua_pushfstring(L, "fold %d", fold + 1);
	return 3;
}

typedef struct attr_item {
	int col;
	double a;
} attr_item;

static int cmp_attr(const void *x, const void *y)
{
	double a = fabs(((const attr_item *)x)->a), b = fabs(((const attr_item *)y)->a);
	if (a != b)
		return a > b ? -1 : 1;
	return ((const attr_item *)x)->col - ((const attr_item *)y)->col;
}

/* model:explain(patient_or_table [, {method = "ig", steps = N, baseline = "mean"}]) ->
 * list of {column=, attribution=, value=} sorted by |attribution|, with fields prob, logit,
 * baseline_logit, delta, steps. */
static int model_explain_l(lua_State *L)
{
	host *h = host_of(L);
	lua_settop(L, 3); /* model_of leaves the name above the arguments */
	host_model *hm = model_of(L, "explain");
	model *m = hm->m;
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	ig_opts o;
	ig_opts_defaults(&o);
	ig_baseline base = {IG_BASE_MEAN, ""};
	if (lua_istable(L, 3)) {
		int t = lua_getfield(L, 3, "method");
		if (t != LUA_TNIL && (t != LUA_TSTRING || strcmp(lua_tostring(L, -1), "ig")))
			return luaL_error(L, "model:explain(): method must be \"ig\" (integrated "
					     "gradients)");
		lua_pop(L, 1);
		t = lua_getfield(L, 3, "steps");
		if (t != LUA_TNIL) {
			if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
			    lua_tointeger(L, -1) > IG_MAX_STEPS)
				return luaL_error(L, "model:explain(): steps must be an integer from 1 "
						     "to %d", IG_MAX_STEPS);
			o.steps = (int)lua_tointeger(L, -1);
		}
		lua_pop(L, 1);
		t = lua_getfield(L, 3, "baseline");
		if (t != LUA_TNIL) {
			lm_err e = {0};
			if (t != LUA_TSTRING || ig_baseline_parse(lua_tostring(L, -1), &base, &e))
				return luaL_error(L, "model:explain(): baseline must be \"mean\", "
						     "\"zero\", \"median\" or \"patient:ID\"");
		}
		lua_pop(L, 1);
	}
	int fold = fold_of_arg(L, m, 2);
	enc_value *vals = input_values(L, m, 2, "explain");
	float *b;
	lm_err e = {0};
	/* a script reads the workbench, never writes it: inside a savepoint (an open
	 * transaction) ig_baseline_compute keeps its cache of baselines to itself */
	int sp = sqlite3_get_autocommit(h->db) &&
		 sqlite3_exec(h->db, "SAVEPOINT lumen_script", NULL, NULL, NULL) == SQLITE_OK;
	int bad = 0;
	if (base.kind == IG_BASE_MEAN) {
		if (!hm->baseline) {
			float *nb = xmallocarray((size_t)m->spec.nslot, sizeof(float));
			if ((bad = ig_baseline_compute(h->db, m, &base, nb, &e)))
				free(nb);
			else
				hm->baseline = nb;
		}
		b = hm->baseline;
	} else {
		b = lua_newuserdatauv(L, (size_t)m->spec.nslot * sizeof(float), 0);
		bad = ig_baseline_compute(h->db, m, &base, b, &e);
	}
	if (sp)
		sqlite3_exec(h->db, "RELEASE lumen_script", NULL, NULL, NULL);
	if (bad)
		return luaL_error(L, "%s", e.msg);
	ig_explanation ex;
	int used = -1;
	if (ops_explain_values(m, fold, vals, b, NULL, &o, -1, &ex, &used, &e))
		return luaL_error(L, "%s", e.msg);
	int nc = ex.ncolumn;
	attr_item *items = lua_newuserdatauv(L, (size_t)(nc ? nc : 1) * sizeof *items, 0);
	for (int j = 0; j < nc; j++)
		items[j] = (attr_item){j, (double)ex.columns[j]};
	qsort(items, (size_t)nc, sizeof *items, cmp_attr);
	lua_createtable(L, nc, 5);
	for (int k = 0; k < nc; k++) {
		int j = items[k].col;
		lua_createtable(L, 0, 3);
		lua_pushstring(L, m->spec.columns[j]);
		lua_setfield(L, -2, "column");
		lua_pushnumber(L, items[k].a);
		lua_setfield(L, -2, "attribution");
		if (vals[j].text)
			lua_pushstring(L, vals[j].text);
		else if (!isnan(vals[j].num))
			lua_pushnumber(L, vals[j].num);
		else
			lua_pushnil(L);
		lua_setfield(L, -2, "value");
		/* in words: the column's label and the value as the screens write it */
		int fc = frame_find(need_frame(L), m->spec.columns[j]);
		if (fc >= 0) {
			const store_column *cm = &need_frame(L)->cols.c[fc];
			char buf[160];
			lbl_text(cm, vals[j].text ? (double)NAN : vals[j].num, vals[j].text, buf, sizeof buf);
			if (cm->unit && !isnan(vals[j].num) && !lbl_is_category(cm))
				lua_pushfstring(L, "%s %s", buf, cm->unit);
			else
				lua_pushstring(L, buf);
			lua_setfield(L, -2, "text");
			lua_pushstring(L, lbl_name(cm));
			lua_setfield(L, -2, "label");
		}
		lua_rawseti(L, -2, k + 1);
	}
	lua_pushnumber(L, (double)ex.prob);
	lua_setfield(L, -2, "prob");
	lua_pushnumber(L, (double)ex.logit);
	lua_setfield(L, -2, "logit");
	lua_pushnumber(L, (double)ex.baseline_logit);
	lua_setfield(L, -2, "baseline_logit");
	lua_pushnumber(L, (double)ex.delta);
	lua_setfield(L, -2, "delta");
	int nst = venc_static_columns(&m->spec);
	ops_visit_attr va;
	if (nst < m->spec.ncolumn &&
	    ops_visit_attr_of(m, ex.slots, vals[nst].visits, vals[nst].rowid, &va) == 0) {
		/* a sequence model: e.visits = {labs, matrix (visit x lab), per_visit, top, ...} */
		lua_createtable(L, 0, 7);
		lua_createtable(L, va.nlab, 0);
		for (int q = 0; q < va.nlab; q++) {
			lua_pushstring(L, va.lab[q]);
			lua_rawseti(L, -2, q + 1);
		}
		lua_setfield(L, -2, "labs");
		lua_createtable(L, va.nvisit, 0);
		for (int r = 0; r < va.nvisit; r++) {
			lua_createtable(L, va.nlab, 0);
			for (int q = 0; q < va.nlab; q++) {
				lua_pushnumber(L, (double)va.m[(size_t)r * va.nlab + q]);
				lua_rawseti(L, -2, q + 1);
			}
			lua_rawseti(L, -2, r + 1);
		}
		lua_setfield(L, -2, "matrix");
		lua_createtable(L, va.nvisit, 0);
		for (int r = 0; r < va.nvisit; r++) {
			lua_pushnumber(L, (double)va.visit[r]);
			lua_rawseti(L, -2, r + 1);
		}
		lua_setfield(L, -2, "per_visit");
		if (va.top >= 0) {
			lua_pushinteger(L, va.top + 1);
			lua_setfield(L, -2, "top");
		}
		lua_pushinteger(L, va.first);
		lua_setfield(L, -2, "skipped");
		lua_pushnumber(L, (double)va.padded);
		lua_setfield(L, -2, "padded");
		lua_pushnumber(L, (double)va.statics);
		lua_setfield(L, -2, "static");
		/* a GRU with attention: the weight of each visit read, and the one attended most */
		int K = 0;
		float *w = ops_visit_weights(m, used, vals, -1, &K);
		ops_visit_attr_attention(&va, m, w, K);
		free(w);
		if (va.attn) {
			lua_createtable(L, va.nvisit, 0);
			for (int r = 0; r < va.nvisit; r++) {
				lua_pushnumber(L, (double)va.attn[r]);
				lua_rawseti(L, -2, r + 1);
			}
			lua_setfield(L, -2, "attention");
			if (va.attn_top >= 0) {
				lua_pushinteger(L, va.attn_top + 1);
				lua_setfield(L, -2, "attention_top");
			}
		}
		lua_setfield(L, -2, "visits");
		ops_visit_attr_free(&va);
	}
	lua_pushinteger(L, ex.steps);
	lua_setfield(L, -2, "steps");
	if (used >= 0)
		lua_pushfstring(L, "fold %d", used + 1);
	else
		lua_pushliteral(L, "final");
	lua_setfield(L, -2, "network");
	ig_explanation_free(&ex);
	return 1;
}

/* lumen.record(patient) -> a plain table of the patient's column values, for what-if. */
static int l_record(lua_State *L)
{
	host_patient *pa = luaL_checkudata(L, 1, HOST_PATIENT_MT);
	const frame *fr = need_frame(L);
	lua_createtable(L, 0, fr->ncol + 1);
	for (int c = 0; c < fr->ncol; c++) {
		push_cell(L, fr, c, pa->row);
		lua_setfield(L, -2, fr->cols.c[c].name);
	}
	if (frame_find(fr, "rowid") < 0) { /* what-if keeps the patient's network */
		lua_pushinteger(L, fr->rowid[pa->row]);
		lua_setfield(L, -2, "rowid");
	}
	return 1;
}

static int l_model(lua_State *L)
{
	host *h = host_of(L);
	const char *name = luaL_checkstring(L, 1);
	lm_err e = {0};
	ops_models ms;
	if (ops_models_load(h->db, name, &ms, &e)) {
		ops_models_free(&ms);
		return luaL_error(L, "no model '%s'; lumen.models() lists them", name);
	}
	push_model_row(L, &ms.m[0]);
	lua_pushstring(L, ms.m[0].metrics ? ms.m[0].metrics : "null");
	lua_setfield(L, -2, "__metrics");
	lua_pushstring(L, ms.m[0].hyper ? ms.m[0].hyper : "null");
	lua_setfield(L, -2, "__hyper");
	ops_models_free(&ms);
	lua_pushcfunction(L, model_metrics);
	lua_setfield(L, -2, "metrics");
	lua_pushcfunction(L, model_hyper);
	lua_setfield(L, -2, "hyper");
	lua_pushcfunction(L, model_predict_l);
	lua_setfield(L, -2, "predict");
	lua_pushcfunction(L, model_explain_l);
	lua_setfield(L, -2, "explain");
	host_model_methods(L); /* curves, importance, attributions: api_model.c */
	return 1;
}

static const luaL_Reg lumen_funcs[] = {
	{"patients", l_patients}, {"count", l_count}, {"columns", l_columns},
	{"models", l_models},     {"model", l_model}, {"record", l_record},
	{"survival", l_survival}, {"audit", l_audit}, {"effect", host_l_effect},
	{"text", l_text}, {NULL, NULL}};
void host_api_install(lua_State *L, int env)
{
	env = lua_absindex(L, env);
	lua_newtable(L);
	luaL_setfuncs(L, lumen_funcs, 0);
	lua_pushliteral(L, LUMEN_VERSION);
	lua_setfield(L, -2, "version");
	lua_setfield(L, env, "lumen");
	lua_newtable(L);
	luaL_setfuncs(L, host_report_funcs, 0);
	lua_setfield(L, env, "report");
}

/* The same functions in the loaded-modules table, so that error messages about a function
 * called without a name (through pcall) call it "lumen.patients". Scripts cannot reach it. */
static void register_loaded(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_newtable(L);
	luaL_setfuncs(L, lumen_funcs, 0);
	lua_setfield(L, -2, "lumen");
	lua_newtable(L);
	luaL_setfuncs(L, host_report_funcs, 0);
	lua_setfield(L, -2, "report");
	lua_pop(L, 1);
}
