/* import_int.h: what the import module's files share (not an API): the per-column
 * accumulators and the dataset of pass 1 and 2 (import.c: inference, the two passes) and the
 * orchestration (import_run.c: the temporary file, the order of the passes, the tables). */
#ifndef LUMEN_IMPORT_INT_H
#define LUMEN_IMPORT_INT_H

#include <stdint.h>

#include "csvin.h"
#include "import.h"
#include "store.h"

/* SQLite's default SQLITE_MAX_COLUMN is 2000; a visits table adds "__patient" and a
 * patients table without ids adds the row column. */
#define IMPORT_MAX_COLUMNS 1998

typedef struct catent {
	uint64_t h;
	char *s; /* the value when it does not fit in inl (read it with cat_str) */
	long n;
	uint32_t len;
	char inl[20]; /* short values live here, in the entry's own cache line */
} catent;

/* The value of an entry (entries move when sorted, so no pointer into inl is kept). */
static inline const char *cat_str(const catent *e)
{
	return e->len < sizeof e->inl ? e->inl : e->s;
}

typedef struct catmap {
	int n, ecap;
	catent *e;
	uint32_t cap;   /* slots, a power of two */
	uint32_t *slot;
} catmap;

#define HLL_P 12
#define HLL_M (1 << HLL_P)

typedef struct ident {
	size_t off; /* the id's text in str */
	long line;  /* where it was first seen */
} ident;

/* Open addressing on the hash's low bits; each slot also keeps the hash's high 32 bits, so
 * that a probe touches an entry (another cache miss) only when it very likely matches. */
typedef struct idset {
	size_t n, cap; /* entries; table size (power of two) */
	ident *e;
	uint64_t *slot; /* 0 empty, else (hash >> 32) << 32 | (entry index + 1) */
	lm_buf str;
} idset;

typedef struct colacc {
	char *name;
	int forced;     /* 1 when --type gave the type */
	col_type type;  /* forced, or inferred at the end of pass 1 */
	col_type ptype; /* the provisional type of the single pass (see prescan) */
	col_role role;
	long missing, n; /* n = values present */
	int can_int, can_real;
	unsigned boolmask;
	long ntrue;
	double shift, sum, sumsq, min, max; /* over numeric values, see value_pass1 */
	/* a column with a value beyond 1e150 sums in long double from there on: (1e308)^2 and
	 * 1e308 - (-1e308) overflow a double, not the x87 format's range of 1e4932 */
	int wide;
	long double lsum, lsumsq;
	catmap cats;
	int overflow;
	unsigned char *hll;
	/* id candidates */
	int cand;
	idset *ids;
	int dup;            /* a duplicate seen */
	long dup_line, dup_col, dup_first;
	char *dup_value;
	int miss;           /* a missing id seen */
	long miss_line, miss_col;
	long rows_distinct; /* the added row-number column: its distinct count (else 0) */
} colacc;

typedef struct dset {
	const import_opts *o;
	const char *path;
	int visits;
	int ncol;
	colacc *col;
	long rows;
	int id;        /* id column, -1 unresolved or row ids */
	int row_ids;   /* the ids are the row numbers, in a column named row_name */
	const char *row_name;
	idset *pids;   /* the patients' ids (visits: lookup) */
	int own_pids;  /* pids was made for row ids (freed with the dset) */
	int tcol;      /* visits: time column */
	int sorted;
	long prev_pid;
	double prev_t;
	/* the single pass: rows are inserted during pass 1 with provisional types */
	const col_type *ptypes; /* from prescan, or NULL: no single pass */
	int nptypes;
	int fast;               /* 1 while the rows go in during pass 1 */
	uint64_t *hs;           /* pass 1: the hashes of a record's values */
	const uint64_t *given;  /* the same, computed by the pass-1 reader thread, or NULL */
	/* pass 2 */
	sqlite3 *db;
	sqlite3_stmt *ins;
	long inserted;
	int delim;
	char sha[65];
} dset;

uint64_t import_hash(const char *s, size_t len);
int import_id_name_rank(const char *name);
int import_dset_find(const dset *d, const char *name);
const char *import_base_name(const char *p);
void import_colacc_init(colacc *c, const char *name);
void import_colacc_free(colacc *c);
void import_colacc_decide(colacc *c);
int import_value_pass1(dset *d, colacc *c, const csvin_field *f, uint64_t h, lm_err *err);
int import_resolve_id(dset *d, lm_err *err);
int import_add_row_ids(dset *d, lm_err *err);
/* csvin's row callback of pass 1 (ctx: the dset); the prescan runs it over the first MB. */
int import_row_pass1(void *ctx, const csvin_row *row, lm_err *err);
int import_pass1(dset *d, lm_err *err);
int import_pass2(dset *d, const char *table, lm_err *err);
int import_store_columns(dset *d, const char *dataset, lm_err *err);
int import_store_dataset(dset *d, const char *name, lm_err *err);
void import_dset_free(dset *d);

#endif
