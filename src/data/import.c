/* import.c: CSV -> workbench file, the per-value work: type inference (values, bounded
 * value counts, HyperLogLog, the patient ids, per-column accumulators), the id rules and the
 * two passes. The orchestration is import_run.c, the queue between the reader thread and the
 * caller bqueue.c. See import.h.
 *
 * Memory is bounded by the number of columns, not rows: per column a few counters, a set of
 * at most FRAME_MAX_CATS distinct values (beyond that the column is not categorical and its
 * distinct count comes from a HyperLogLog sketch), plus one set of patient ids, which the
 * duplicate check and the visits' patient lookup need. */
#define _POSIX_C_SOURCE 200809L
#include "import_int.h"
#include "bqueue.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csvin.h"

/* ---- values ---- */

static const char *const default_na[] = {"NA", "NaN", "N/A", "null", "."};

int import_is_default_na(const char *s)
{
	switch (s[0]) { /* every marker starts with one of these: most values end here */
	case 0:
		return 1;
	case 'N':
	case 'n':
	case '.':
		for (size_t i = 0; i < LM_ARRAY_LEN(default_na); i++)
			if (!strcmp(s, default_na[i]))
				return 1;
	}
	return 0;
}

int import_parse_number(const char *s, size_t len, double *v, long long *iv)
{
	size_t i = 0;
	int neg = 0;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	uint64_t mant = 0;
	int ndig = 0, nfrac = 0, sig = 0, dropped = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, ndig++) {
		if (sig < 19) {
			mant = mant * 10 + (uint64_t)(s[i] - '0');
			if (mant)
				sig++;
		} else
			dropped++;
	}
	int isint = 1;
	if (i < len && s[i] == '.') {
		isint = 0;
		i++;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, ndig++) {
			if (sig < 19) {
				mant = mant * 10 + (uint64_t)(s[i] - '0');
				nfrac++;
				if (mant)
					sig++;
			}
		}
	}
	if (ndig == 0)
		return 0;
	long ex = 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		isint = 0;
		i++;
		int eneg = 0;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		size_t e0 = i;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			if (ex < 100000)
				ex = ex * 10 + (s[i] - '0');
		if (i == e0)
			return 0;
		if (eneg)
			ex = -ex;
	}
	if (i != len)
		return 0;
	long e10 = ex - nfrac + dropped;
	/* Clinger's fast path: an integer mantissa below 2^53 times or over an exact power of
	 * ten below 1e23 is one correctly rounded IEEE operation. */
	static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	double val;
	if (mant < (1ULL << 53) && e10 >= -22 && e10 <= 22) {
		val = (double)mant;
		val = e10 < 0 ? val / p10[-e10] : val * p10[e10];
		if (neg)
			val = -val;
	} else {
		char tmp[512];
		if (len >= sizeof tmp)
			return 0;
		memcpy(tmp, s, len);
		tmp[len] = 0;
		errno = 0;
		val = strtod(tmp, NULL);
		if (!isfinite(val))
			return 0;
	}
	*v = val;
	if (isint && !dropped && mant <= (uint64_t)INT64_MAX) {
		*iv = neg ? -(long long)mant : (long long)mant;
		return 2;
	}
	return 1;
}

/* Boolean label families: a column is boolean when all its values belong to one family. */
enum { BF_01 = 1, BF_TRUEFALSE = 2, BF_YESNO = 4, BF_YN = 8, BF_TF = 16, BF_ALL = 31 };

static unsigned bool_family(const char *s, size_t len, int *truth)
{
	switch (len) {
	case 1:
		switch (s[0]) {
		case '0': *truth = 0; return BF_01;
		case '1': *truth = 1; return BF_01;
		case 'y': case 'Y': *truth = 1; return BF_YN;
		case 'n': case 'N': *truth = 0; return BF_YN;
		case 't': case 'T': *truth = 1; return BF_TF;
		case 'f': case 'F': *truth = 0; return BF_TF;
		}
		return 0;
	case 2:
		if (!strcasecmp(s, "no")) { *truth = 0; return BF_YESNO; }
		return 0;
	case 3:
		if (!strcasecmp(s, "yes")) { *truth = 1; return BF_YESNO; }
		return 0;
	case 4:
		if (!strcasecmp(s, "true")) { *truth = 1; return BF_TRUEFALSE; }
		return 0;
	case 5:
		if (!strcasecmp(s, "false")) { *truth = 0; return BF_TRUEFALSE; }
		return 0;
	}
	return 0;
}

int import_bool_value(const char *s)
{
	int truth = 0;
	return bool_family(s, strlen(s), &truth) ? truth : -1;
}

uint64_t import_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	/* murmur3's finaliser, so that every bit depends on every byte (HyperLogLog needs it) */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* ---- bounded value counts ---- */

/* Open addressing that starts small and doubles, so that the many columns with a handful of
 * values keep their maps in the fastest caches. A slot holds the top 16 bits of the hash
 * and the entry index + 1 (0 = empty): a probe reads an entry only when those bits match. */

/* memcmp for the short strings categories are, without a library call */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static void catmap_rehash(catmap *m, uint32_t cap)
{
	free(m->slot);
	m->slot = xcalloc(cap, sizeof *m->slot);
	m->cap = cap;
	for (int k = 0; k < m->n; k++) {
		uint32_t i = (uint32_t)m->e[k].h & (cap - 1);
		while (m->slot[i])
			i = (i + 1) & (cap - 1);
		m->slot[i] = (uint32_t)(m->e[k].h >> 48) << 16 | (uint32_t)(k + 1);
	}
}

/* Counts s; returns -1 when the map holds FRAME_MAX_CATS values and s is new. */
static int catmap_add(catmap *m, const char *s, size_t len, uint64_t h)
{
	if (!m->slot)
		catmap_rehash(m, 16);
	uint32_t hh = (uint32_t)(h >> 48), i = (uint32_t)h & (m->cap - 1), v;
	while ((v = m->slot[i]) != 0) {
		if (v >> 16 == hh) {
			catent *e = &m->e[(v & 0xffff) - 1];
			if (e->h == h && e->len == len && same_bytes(cat_str(e), s, len)) {
				e->n++;
				return 0;
			}
		}
		i = (i + 1) & (m->cap - 1);
	}
	if (m->n == FRAME_MAX_CATS)
		return -1;
	if (m->n == m->ecap) {
		m->ecap = m->ecap ? 2 * m->ecap : 8;
		if (m->ecap > FRAME_MAX_CATS)
			m->ecap = FRAME_MAX_CATS;
		m->e = xreallocarray(m->e, (size_t)m->ecap, sizeof *m->e);
	}
	catent *e = &m->e[m->n];
	e->h = h;
	e->len = (uint32_t)len;
	e->n = 1;
	e->s = NULL;
	if (len < sizeof e->inl) {
		memcpy(e->inl, s, len);
		e->inl[len] = 0;
	} else
		e->s = xstrndup(s, len);
	m->n++;
	if (2 * (uint32_t)m->n > m->cap) /* keep the load at most one half */
		catmap_rehash(m, 2 * m->cap);
	else
		m->slot[i] = hh << 16 | (uint32_t)m->n;
	return 0;
}

static void catmap_free(catmap *m)
{
	for (int i = 0; i < m->n; i++)
		free(m->e[i].s);
	free(m->e);
	free(m->slot);
	memset(m, 0, sizeof *m);
}

/* ---- HyperLogLog (Flajolet et al. 2007), 2^12 registers: about 1.6% standard error ---- */


static void hll_add(unsigned char *reg, uint64_t h)
{
	size_t idx = (size_t)(h >> (64 - HLL_P));
	uint64_t w = (h << HLL_P) | (1ULL << (HLL_P - 1));
	unsigned char rank = (unsigned char)(__builtin_clzll(w) + 1);
	if (rank > reg[idx])
		reg[idx] = rank;
}

static long hll_estimate(const unsigned char *reg)
{
	double sum = 0;
	int zeros = 0;
	for (int i = 0; i < HLL_M; i++) {
		sum += ldexp(1.0, -reg[i]);
		zeros += reg[i] == 0;
	}
	double m = HLL_M, alpha = 0.7213 / (1 + 1.079 / m);
	double e = alpha * m * m / sum;
	if (e <= 2.5 * m && zeros)
		e = m * log(m / zeros);
	return lround(e);
}

/* ---- the set of patient ids ---- */


static void idset_grow(idset *s)
{
	size_t cap = s->cap ? 2 * s->cap : 1024;
	free(s->slot);
	s->slot = xcalloc(cap, sizeof *s->slot);
	s->cap = cap;
	for (size_t k = 0; k < s->n; k++) {
		const char *str = s->str.data + s->e[k].off;
		uint64_t h = import_hash(str, strlen(str));
		size_t i = h & (cap - 1);
		while (s->slot[i])
			i = (i + 1) & (cap - 1);
		s->slot[i] = (h >> 32 << 32) | (uint64_t)(k + 1);
	}
	s->e = xreallocarray(s->e, cap / 2, sizeof *s->e);
}

/* Index of s in the set, or -1. */
static long idset_find(const idset *s, const char *str, uint64_t h)
{
	if (!s->cap)
		return -1;
	size_t i = h & (s->cap - 1);
	uint64_t hi = h >> 32;
	for (uint64_t v; (v = s->slot[i]) != 0; i = (i + 1) & (s->cap - 1)) {
		size_t k = (size_t)(v & 0xffffffffu) - 1;
		if (v >> 32 == hi && !strcmp(s->str.data + s->e[k].off, str))
			return (long)k;
	}
	return -1;
}

/* Adds s with hash h = import_hash(s) (at line); returns -1, or the index of the earlier equal id. */
static long idset_add(idset *s, const char *str, size_t len, uint64_t h, long line)
{
	long k = idset_find(s, str, h);
	if (k >= 0)
		return k;
	if (2 * (s->n + 1) > s->cap)
		idset_grow(s);
	size_t i = h & (s->cap - 1);
	while (s->slot[i])
		i = (i + 1) & (s->cap - 1);
	s->e[s->n] = (ident){s->str.len, line};
	buf_add(&s->str, str, len + 1);
	s->slot[i] = (h >> 32 << 32) | (uint64_t)(++s->n);
	return -1;
}

static void idset_free(idset *s)
{
	free(s->e);
	free(s->slot);
	buf_free(&s->str);
	memset(s, 0, sizeof *s);
}

/* ---- per-column accumulation (pass 1) ---- */


void import_colacc_init(colacc *c, const char *name)
{
	memset(c, 0, sizeof *c);
	c->name = xstrdup(name);
	c->can_int = c->can_real = 1;
	c->boolmask = BF_ALL;
	c->min = INFINITY;
	c->max = -INFINITY;
	c->role = COL_ROLE_FEATURE;
}

void import_colacc_free(colacc *c)
{
	free(c->name);
	catmap_free(&c->cats);
	free(c->hll);
	if (c->ids) {
		idset_free(c->ids);
		free(c->ids);
	}
	free(c->dup_value);
}

/* Decides the type at the end of pass 1. */
void import_colacc_decide(colacc *c)
{
	if (c->forced)
		return;
	if (c->n == 0)
		c->type = COL_TYPE_TEXT;
	else if (c->boolmask)
		c->type = COL_TYPE_BOOLEAN;
	else if (c->can_int)
		c->type = COL_TYPE_INTEGER;
	else if (c->can_real)
		c->type = COL_TYPE_REAL;
	else
		c->type = COL_TYPE_TEXT;
}

/* ---- one dataset (patients or visits) ---- */


static const char *const id_names[] = {"id",	     "patient_id", "patientid", "patient",
				       "subject_id", "subjectid",  "subject",   "pid",
				       "record_id",  "mrn",	   "rownames"};


/* The name of the column that holds the row numbers when the CSV has no id column. */
static const char *const row_id_names[] = {"row", "row_id", "row_number", "lumen_row"};

int import_id_name_rank(const char *name)
{
	for (size_t i = 0; i < LM_ARRAY_LEN(id_names); i++)
		if (!strcasecmp(name, id_names[i]))
			return (int)i;
	return -1;
}

static const char *const time_names[] = {"time", "day", "days", "visit", "visit_time", "t",
					 "week", "month", "year"};

int import_dset_find(const dset *d, const char *name)
{
	for (int j = 0; j < d->ncol; j++)
		if (!strcmp(d->col[j].name, name))
			return j;
	return -1;
}

static int is_na(const dset *d, const char *s)
{
	if (!*s)
		return 1;
	if (!d->o->na)
		return import_is_default_na(s);
	for (int i = 0; i < d->o->nna; i++)
		if (!strcmp(s, d->o->na[i]))
			return 1;
	return 0;
}

static int need_column(const dset *d, const char *name, const char *opt, lm_err *err)
{
	int j = import_dset_find(d, name);
	if (j < 0)
		lm_seterr(err, EX_DATAERR, "%s: no column '%s' (given with %s)", d->path, name, opt);
	return j;
}

static int set_role(dset *d, const char *name, const char *opt, col_role role, lm_err *err)
{
	int j = need_column(d, name, opt, err);
	if (j < 0)
		return EX_DATAERR;
	d->col[j].role = role;
	return 0;
}

static int header(dset *d, const csvin_row *row, lm_err *err)
{
	const import_opts *o = d->o;
	/* the limit first: a header of 100,000 names is refused before any work on it */
	if (row->n > IMPORT_MAX_COLUMNS)
		return csvin_error_at(err, d->path, 1, 1, "%d columns: lumen takes at most %d",
				      row->n, IMPORT_MAX_COLUMNS);
	d->ncol = row->n;
	d->col = xcalloc((size_t)row->n, sizeof *d->col);
	d->hs = xmallocarray((size_t)row->n, sizeof *d->hs);
	/* names are unique regardless of case (SQLite's identifiers are not case-sensitive):
	 * an open-addressing set of the lower-cased names' hashes, so the check is linear */
	size_t cap = 16;
	while (cap < 2 * (size_t)row->n)
		cap *= 2;
	int *seen = xmallocarray(cap, sizeof *seen);
	for (size_t i = 0; i < cap; i++)
		seen[i] = -1;
	int st = 0;
	for (int j = 0; j < row->n && !st; j++) {
		const csvin_field *f = &row->f[j];
		/* R's write.csv names its row-names column "": keep it, as "rownames" */
		const char *name = f->len ? f->s : (j == 0 && row->n > 1) ? "rownames" : NULL;
		if (!name) {
			st = csvin_error_at(err, d->path, f->line, f->col, "empty column name (column %d)",
					    j + 1);
			break;
		}
		if (d->visits && !strcasecmp(name, "__patient")) {
			st = csvin_error_at(err, d->path, f->line, f->col,
					    "column name '__patient' is reserved");
			break;
		}
		size_t len = strlen(name);
		char *low = xmalloc(len + 1);
		for (size_t i = 0; i <= len; i++)
			low[i] = (char)tolower((unsigned char)name[i]);
		size_t i = import_hash(low, len) & (cap - 1);
		free(low);
		for (; seen[i] >= 0; i = (i + 1) & (cap - 1))
			if (!strcasecmp(d->col[seen[i]].name, name)) {
				st = csvin_error_at(err, d->path, f->line, f->col,
						    "duplicate column name '%s' (also column %d)", name,
						    seen[i] + 1);
				break;
			}
		if (st)
			break;
		seen[i] = j;
		import_colacc_init(&d->col[j], name);
	}
	free(seen);
	if (st) {
		/* the columns after the error were never initialised: free what was */
		for (int j = 0; j < row->n; j++)
			if (d->col[j].name)
				import_colacc_free(&d->col[j]);
		memset(d->col, 0, (size_t)row->n * sizeof *d->col);
		d->ncol = 0;
		return st;
	}
	for (int t = 0; t < o->ntypes; t++) {
		int j = import_dset_find(d, o->types[t].column);
		if (j >= 0) {
			d->col[j].forced = 1;
			d->col[j].type = o->types[t].type;
		}
	}
	if (!d->visits) {
		for (int i = 0; i < o->ntargets; i++)
			if ((st = set_role(d, o->targets[i], "--target", COL_ROLE_TARGET, err)))
				return st;
		for (int i = 0; i < o->ngroups; i++)
			if ((st = set_role(d, o->groups[i], "--group", COL_ROLE_GROUP, err)))
				return st;
		for (int i = 0; i < o->nignores; i++)
			if ((st = set_role(d, o->ignores[i], "--ignore", COL_ROLE_IGNORE, err)))
				return st;
		if (o->time && (st = set_role(d, o->time, "--time", COL_ROLE_TIME, err)))
			return st;
		if (o->event && (st = set_role(d, o->event, "--event", COL_ROLE_EVENT, err)))
			return st;
		if (o->treatment && (st = set_role(d, o->treatment, "--treatment", COL_ROLE_TREATMENT, err)))
			return st;
		if (o->id) {
			if ((d->id = need_column(d, o->id, "--id", err)) < 0)
				return EX_DATAERR;
			if (d->col[d->id].role != COL_ROLE_FEATURE)
				return lm_seterr(err, EX_USAGE, "%s: column '%s' cannot be both the id and "
						 "the %s", d->path, o->id,
						 store_role_name(d->col[d->id].role));
			d->col[d->id].cand = 1;
			d->col[d->id].role = COL_ROLE_ID; /* an id is never a model input */
		} else if (o->row_ids) {
			/* the rows are numbered; a column named like an id is still no feature */
			for (int j = 0; j < d->ncol; j++)
				if (import_id_name_rank(d->col[j].name) >= 0 && d->col[j].role == COL_ROLE_FEATURE)
					d->col[j].role = COL_ROLE_IGNORE;
		} else {
			for (int j = 0; j < d->ncol; j++)
				d->col[j].cand = import_id_name_rank(d->col[j].name) >= 0 &&
						 d->col[j].role == COL_ROLE_FEATURE;
		}
		for (int j = 0; j < d->ncol; j++)
			if (d->col[j].cand)
				d->col[j].ids = xcalloc(1, sizeof(idset));
	} else {
		/* the visits' patient id: the patients' id column by name, else an id-like name */
		d->id = import_dset_find(d, o->id); /* o->id is the resolved patients id here */
		for (int j = 0; j < d->ncol && d->id < 0; j++)
			if (import_id_name_rank(d->col[j].name) >= 0)
				d->id = j;
		if (d->id < 0)
			return lm_seterr(err, EX_DATAERR,
					 "%s: no patient id column (expected a column named '%s')",
					 d->path, o->id);
		d->col[d->id].role = COL_ROLE_ID;
		if (o->visits_time) {
			if ((d->tcol = need_column(d, o->visits_time, "--visits-time", err)) < 0)
				return EX_DATAERR;
		} else {
			d->tcol = -1;
			for (size_t i = 0; i < LM_ARRAY_LEN(time_names) && d->tcol < 0; i++)
				for (int j = 0; j < d->ncol; j++)
					if (j != d->id && !strcasecmp(d->col[j].name, time_names[i])) {
						d->tcol = j;
						break;
					}
			if (d->tcol < 0)
				return lm_seterr(err, EX_DATAERR,
						 "%s: no visit time column; name one with --visits-time",
						 d->path);
		}
		if (d->tcol == d->id)
			return lm_seterr(err, EX_DATAERR, "%s: the time column cannot be the id column",
					 d->path);
		d->col[d->tcol].role = COL_ROLE_TIME;
		d->sorted = 1;
		d->prev_pid = 0;
		d->prev_t = -INFINITY;
	}
	return 0;
}

/* The single pass binds each value as pass 2 would under the column's provisional type. A
 * value that type cannot hold means the final type differs: the single pass stops there
 * and pass 2 inserts the rows instead (the final check is in import_pass1). */
static void fast_bind(dset *d, const colacc *c, const csvin_field *f, int num, double v,
		      long long iv, int truth)
{
	int i = (int)(c - d->col) + 1;
	switch (c->ptype) {
	case COL_TYPE_INTEGER:
		if (num == 2) {
			sqlite3_bind_int64(d->ins, i, iv);
			return;
		}
		break;
	case COL_TYPE_REAL:
		if (num) {
			sqlite3_bind_double(d->ins, i, v);
			return;
		}
		break;
	case COL_TYPE_BOOLEAN:
		if (c->boolmask) {
			sqlite3_bind_int(d->ins, i, truth);
			return;
		}
		break;
	case COL_TYPE_TEXT:
		/* the field outlives the step, which comes at the end of its row */
		sqlite3_bind_text(d->ins, i, f->s, (int)f->len, SQLITE_STATIC);
		return;
	}
	d->fast = 0;
}

int import_value_pass1(dset *d, colacc *c, const csvin_field *f, uint64_t h, lm_err *err)
{
	if (is_na(d, f->s)) {
		if (d->fast)
			sqlite3_bind_null(d->ins, (int)(c - d->col) + 1);
		c->missing++;
		if (c->cand && !c->miss) {
			c->miss = 1;
			c->miss_line = f->line;
			c->miss_col = f->col;
		}
		return 0;
	}
	c->n++;
	double v = 0;
	long long iv;
	int num = import_parse_number(f->s, f->len, &v, &iv);
	if (num != 2)
		c->can_int = 0;
	if (!num)
		c->can_real = 0;
	if (c->can_real) {
		/* sums shifted by the first value: the variance of x - K equals that of x and
		 * does not lose precision to cancellation when K is near the mean */
		if (c->n == 1)
			c->shift = v;
		if (!c->wide && fabs(v) > 1e150) {
			c->wide = 1;
			c->lsum = c->sum;
			c->lsumsq = c->sumsq;
		}
		if (c->wide) {
			long double dv = (long double)v - (long double)c->shift;
			c->lsum += dv;
			c->lsumsq += dv * dv;
		} else {
			double dv = v - c->shift;
			c->sum += dv;
			c->sumsq += dv * dv;
		}
		if (v < c->min)
			c->min = v;
		if (v > c->max)
			c->max = v;
	}
	int truth = 0;
	unsigned fam = c->boolmask ? bool_family(f->s, f->len, &truth) : 0;
	c->boolmask &= fam;
	if (c->boolmask)
		c->ntrue += truth;
	if (c->forced) {
		const char *want = NULL;
		if (c->type == COL_TYPE_INTEGER && num != 2)
			want = "an integer";
		else if (c->type == COL_TYPE_REAL && !num)
			want = "a number";
		else if (c->type == COL_TYPE_BOOLEAN && !c->boolmask)
			want = "a boolean of the same kind as the column's other values";
		if (want)
			return csvin_error_at(err, d->path, f->line, f->col,
					      "'%s' is not %s (column '%s' has --type %s)", f->s, want,
					      c->name, store_type_name(c->type));
	}
	if (d->fast)
		fast_bind(d, c, f, num, v, iv, truth);
	if (c->overflow)
		hll_add(c->hll, h);
	else if (catmap_add(&c->cats, f->s, f->len, h) < 0) {
		/* too many values to count exactly: from here on, estimate (the sketch starts
		 * with every value seen so far, so it is the same as if it had run all along) */
		c->overflow = 1;
		c->hll = xcalloc(HLL_M, 1);
		for (int k = 0; k < c->cats.n; k++)
			hll_add(c->hll, c->cats.e[k].h);
		hll_add(c->hll, h);
		catmap_free(&c->cats);
	}
	if (c->ids) {
		long k = idset_add(c->ids, f->s, f->len, h, f->line);
		if (k >= 0 && !c->dup) {
			c->dup = 1;
			c->dup_line = f->line;
			c->dup_col = f->col;
			c->dup_first = c->ids->e[k].line;
			c->dup_value = xstrdup(f->s);
		}
	}
	return 0;
}

static int id_problem(const dset *d, const colacc *c, lm_err *err)
{
	if (c->dup && (!c->miss || c->dup_line < c->miss_line ||
		       (c->dup_line == c->miss_line && c->dup_col < c->miss_col)))
		return csvin_error_at(err, d->path, c->dup_line, c->dup_col,
				      "duplicate patient id '%s' (also on line %ld)", c->dup_value,
				      c->dup_first);
	if (c->miss)
		return csvin_error_at(err, d->path, c->miss_line, c->miss_col,
				      "missing patient id (column '%s')", c->name);
	return 0;
}

static int create_table(dset *d, const char *table, lm_err *err);
static int sql_fail(sqlite3 *db, int rc, lm_err *err);

/* After the header: starts the single pass when prescan gave a type for every column. */
static int fast_begin(dset *d, lm_err *err)
{
	if (!d->ptypes || d->nptypes != d->ncol || !d->db)
		return 0;
	for (int j = 0; j < d->ncol; j++)
		d->col[j].ptype = d->col[j].forced ? d->col[j].type : d->ptypes[j];
	d->fast = 1;
	return create_table(d, "patients", err);
}

int import_row_pass1(void *ctx, const csvin_row *row, lm_err *err)
{
	dset *d = ctx;
	if (row->record == 1) {
		int st = header(d, row, err);
		return st ? st : fast_begin(d, err);
	}
	d->rows++;
	/* The value counts of 40 columns do not all fit in the nearest caches: hash every value
	 * of the row first and prefetch the slots, then the entries, its values will touch, so
	 * that the misses overlap instead of coming one after the other. */
	uint64_t *hs = d->hs;
	for (int j = 0; j < d->ncol; j++) {
		const colacc *c = &d->col[j];
		hs[j] = d->given ? d->given[j] : import_hash(row->f[j].s, row->f[j].len);
		if (c->overflow)
			__builtin_prefetch(&c->hll[hs[j] >> (64 - HLL_P)]);
		else if (c->cats.slot)
			__builtin_prefetch(&c->cats.slot[hs[j] & (c->cats.cap - 1)]);
		if (c->ids && c->ids->cap)
			__builtin_prefetch(&c->ids->slot[hs[j] & (c->ids->cap - 1)]);
	}
	for (int j = 0; j < d->ncol; j++) {
		const colacc *c = &d->col[j];
		if (!c->overflow && c->cats.slot) {
			uint32_t v = c->cats.slot[hs[j] & (c->cats.cap - 1)];
			if (v)
				__builtin_prefetch(&c->cats.e[(v & 0xffff) - 1]);
		}
	}
	for (int j = 0; j < d->ncol; j++) {
		colacc *c = &d->col[j];
		int st = import_value_pass1(d, c, &row->f[j], hs[j], err);
		if (st)
			return st;
		if (c->ids && (c->dup || c->miss)) {
			if (!d->visits && d->o->id) /* the id was named: every problem is an error */
				return id_problem(d, c, err);
			idset_free(c->ids); /* no longer a candidate: stop spending memory on it */
			free(c->ids);
			c->ids = NULL;
		}
	}
	if (d->visits) {
		const csvin_field *f = &row->f[d->id];
		if (is_na(d, f->s))
			return csvin_error_at(err, d->path, f->line, f->col, "visit with no patient id");
		long k = idset_find(d->pids, f->s, import_hash(f->s, f->len));
		if (k < 0)
			return csvin_error_at(err, d->path, f->line, f->col,
					      "visit for unknown patient id '%s'", f->s);
		const csvin_field *tf = &row->f[d->tcol];
		double t = -INFINITY;
		long long it;
		if (!is_na(d, tf->s) && !import_parse_number(tf->s, tf->len, &t, &it))
			return csvin_error_at(err, d->path, tf->line, tf->col,
					      "visit time '%s' is not a number (column '%s')", tf->s,
					      d->col[d->tcol].name);
		if (k + 1 < d->prev_pid || (k + 1 == d->prev_pid && t < d->prev_t))
			d->sorted = 0;
		d->prev_pid = k + 1;
		d->prev_t = t;
	}
	if (d->fast) {
		int rc = sqlite3_step(d->ins);
		sqlite3_reset(d->ins);
		if (rc != SQLITE_DONE)
			return sql_fail(d->db, rc, err);
		d->inserted++;
	}
	return 0;
}

/* The ways out of an id column that cannot be the id, for the messages below. */
static const char *id_ways_out(const dset *d)
{
	return d->o->no_visits_hint ? "name the id with --id COL, or number the rows with --row-ids"
				    : "name the id with --id COL, number the rows with --row-ids, "
				      "or import a long table with --visits";
}

/* A column found by its name whose values repeat or are missing: one line that says how
 * often, and the ways out. */
static int id_by_name_problem(const dset *d, const colacc *c, lm_err *err)
{
	if (c->dup && (!c->miss || c->dup_line < c->miss_line ||
		       (c->dup_line == c->miss_line && c->dup_col < c->miss_col))) {
		long present = d->rows - c->missing;
		long distinct = c->overflow ? hll_estimate(c->hll) : c->cats.n;
		if (distinct > present)
			distinct = present;
		return csvin_error_at(err, d->path, c->dup_line, c->dup_col,
				      "column '%s' looks like the patient id but repeats: %ld rows, "
				      "%s%ld distinct values ('%s' also on line %ld); %s",
				      c->name, present, c->overflow ? "about " : "", distinct,
				      c->dup_value, c->dup_first, id_ways_out(d));
	}
	return csvin_error_at(err, d->path, c->miss_line, c->miss_col,
			      "column '%s' looks like the patient id but has %ld missing value%s; %s",
			      c->name, c->missing, c->missing == 1 ? "" : "s", id_ways_out(d));
}

static int num_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Ids are unique as text in the set; the stored value is the converted one, so a numeric id
 * column is checked again on its numbers ("1" and "1.0", "1" and "01", integers beyond 2^53
 * that become the same double). */
static int id_stored_unique(const dset *d, const colacc *c, lm_err *err)
{
	if (c->type == COL_TYPE_TEXT || !c->ids)
		return 0;
	const idset *s = c->ids;
	typedef struct {
		double v;
		size_t k;
	} numid;
	numid *a = xmallocarray(s->n ? s->n : 1, sizeof *a);
	for (size_t k = 0; k < s->n; k++) {
		const char *str = s->str.data + s->e[k].off;
		double v = 0;
		long long iv;
		int truth = 0;
		if (c->type == COL_TYPE_BOOLEAN) {
			bool_family(str, strlen(str), &truth);
			v = truth;
		} else {
			import_parse_number(str, strlen(str), &v, &iv);
			/* the integer column keeps all 64 bits: compare those when they differ */
			if (c->type == COL_TYPE_INTEGER && (double)iv == v)
				v = (double)iv;
		}
		a[k] = (numid){v, k};
	}
	qsort(a, s->n, sizeof *a, num_cmp);
	int st = 0;
	for (size_t k = 1; k < s->n && !st; k++) {
		if (a[k].v != a[k - 1].v)
			continue;
		const ident *x = &s->e[a[k - 1].k], *y = &s->e[a[k].k];
		if (x->line > y->line) {
			const ident *t = x;
			x = y;
			y = t;
		}
		/* exact 64-bit integers that round to one double are different ids: check them */
		if (c->type == COL_TYPE_INTEGER) {
			double v1, v2;
			long long i1, i2;
			import_parse_number(s->str.data + x->off, strlen(s->str.data + x->off), &v1, &i1);
			import_parse_number(s->str.data + y->off, strlen(s->str.data + y->off), &v2, &i2);
			if (i1 != i2)
				continue;
		}
		st = csvin_error_at(err, d->path, y->line, 1,
				    "duplicate patient id '%s': the same %s as '%s' on line %ld "
				    "(column '%s')",
				    s->str.data + y->off, store_type_name(c->type), s->str.data + x->off,
				    x->line, c->name);
	}
	free(a);
	return st;
}

/* After pass 1 of the patients: picks the id column, or numbers the rows. */
int import_resolve_id(dset *d, lm_err *err)
{
	int best = -1;
	if (d->o->id) {
		int st = id_problem(d, &d->col[d->id], err);
		if (st)
			return st;
		best = d->id;
	} else if (!d->o->row_ids) {
		for (int j = 0; j < d->ncol; j++) {
			colacc *c = &d->col[j];
			if (c->cand && c->ids && !c->dup && !c->miss &&
			    (best < 0 || import_id_name_rank(c->name) < import_id_name_rank(d->col[best].name)))
				best = j;
		}
		if (best < 0)
			for (int j = 0; j < d->ncol; j++)
				if (d->col[j].cand)
					return id_by_name_problem(d, &d->col[j], err);
	}
	if (best < 0) {
		/* no id column: the row numbers are the ids (added as a column in write_db) */
		d->row_ids = 1;
		d->id = -1;
		const char *name = NULL;
		for (size_t i = 0; i < LM_ARRAY_LEN(row_id_names) && !name; i++) {
			int taken = 0;
			for (int j = 0; j < d->ncol && !taken; j++)
				taken = !strcasecmp(d->col[j].name, row_id_names[i]);
			if (!taken)
				name = row_id_names[i];
		}
		if (!name)
			return lm_seterr(err, EX_DATAERR, "%s: no name free for the row-number id column",
					 d->path);
		d->row_name = name;
		d->pids = xcalloc(1, sizeof *d->pids);
		d->own_pids = 1;
		char num[32];
		for (long r = 1; r <= d->rows; r++) {
			int n = snprintf(num, sizeof num, "%ld", r);
			idset_add(d->pids, num, (size_t)n, import_hash(num, (size_t)n), r + 1);
		}
		return 0;
	}
	d->id = best;
	for (int j = 0; j < d->ncol; j++) {
		if (j != best && d->col[j].ids) {
			idset_free(d->col[j].ids);
			free(d->col[j].ids);
			d->col[j].ids = NULL;
		}
		/* another column named like an id (R's rownames beside a pid) is no input either */
		if (j != best && d->col[j].cand)
			d->col[j].role = COL_ROLE_IGNORE;
	}
	d->col[best].role = COL_ROLE_ID;
	d->pids = d->col[best].ids;
	return id_stored_unique(d, &d->col[best], err);
}

/* Under row ids: the column of row numbers 1..n, added to the patients table and described
 * in `columns` like any other (an integer id, complete and unique). */
int import_add_row_ids(dset *d, lm_err *err)
{
	char *q = sqlite3_mprintf("ALTER TABLE patients ADD COLUMN \"%w\" INTEGER;"
				  " UPDATE patients SET \"%w\" = rowid",
				  d->row_name, d->row_name);
	int st = store_exec(d->db, q, err);
	sqlite3_free(q);
	if (st)
		return st;
	d->col = xreallocarray(d->col, (size_t)d->ncol + 1, sizeof *d->col);
	colacc *c = &d->col[d->ncol++];
	import_colacc_init(c, d->row_name);
	c->forced = 1;
	c->type = COL_TYPE_INTEGER;
	c->role = COL_ROLE_ID;
	double n = (double)d->rows;
	c->n = d->rows;
	c->shift = 0;
	c->sum = n * (n + 1) / 2;
	c->sumsq = n * (n + 1) * (2 * n + 1) / 6;
	c->min = 1;
	c->max = n;
	c->overflow = 0;
	/* the exact distinct count is n: keep it in the count map's size */
	c->rows_distinct = d->rows;
	return store_meta_set(d->db, "row_ids", d->row_name, err);
}

/* ---- pass 2: the rows into SQLite ---- */

static int sql_fail(sqlite3 *db, int rc, lm_err *err)
{
	return lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
}

/* Pass 2 runs as a pipeline on two threads: a producer parses the CSV and converts each
 * value to its column's type into batches of rows; the caller's thread binds and steps them
 * into SQLite. A few batches circulate between the two, so memory stays bounded. */
enum { CELL_NULL, CELL_INT, CELL_REAL, CELL_TEXT };
#define BATCH_ROWS 512
#define NBATCH 4

typedef struct cell {
	int kind;
	union {
		long long i;
		double d;
		struct {
			size_t off, len;
		} t;
	} u;
} cell;

typedef struct batch {
	int nrow;
	cell *cells; /* BATCH_ROWS * width */
	lm_buf text;
} batch;

typedef struct pipeline {
	dset *d;
	int width; /* cells per row: the columns, plus __patient for visits */
	bqueue q;  /* the consumer reads b[q.head], the producer fills b[q.tail] */
	batch b[NBATCH];
	int status; /* the producer's, read after pthread_join */
	lm_err err;
} pipeline;

static int changed(const dset *d, lm_err *err)
{
	return lm_seterr(err, EX_DATAERR, "%s: the file changed during the import", d->path);
}

static int row_convert(void *ctx, const csvin_row *row, lm_err *err)
{
	pipeline *pl = ctx;
	dset *d = pl->d;
	if (row->record == 1)
		return row->n != d->ncol ? changed(d, err) : 0;
	batch *bt = &pl->b[pl->q.tail];
	cell *cl = &bt->cells[(size_t)bt->nrow * (size_t)pl->width];
	if (d->visits) {
		const csvin_field *f = &row->f[d->id];
		long k = idset_find(d->pids, f->s, import_hash(f->s, f->len));
		if (k < 0)
			return changed(d, err);
		cl->kind = CELL_INT;
		cl->u.i = k + 1;
		cl++;
	}
	for (int j = 0; j < d->ncol; j++, cl++) {
		const csvin_field *f = &row->f[j];
		double v;
		long long iv;
		int truth = 0;
		if (is_na(d, f->s)) {
			cl->kind = CELL_NULL;
			continue;
		}
		switch (d->col[j].type) {
		case COL_TYPE_INTEGER:
			if (import_parse_number(f->s, f->len, &v, &iv) != 2)
				return changed(d, err);
			cl->kind = CELL_INT;
			cl->u.i = iv;
			break;
		case COL_TYPE_REAL:
			if (!import_parse_number(f->s, f->len, &v, &iv))
				return changed(d, err);
			cl->kind = CELL_REAL;
			cl->u.d = v;
			break;
		case COL_TYPE_BOOLEAN:
			if (!bool_family(f->s, f->len, &truth))
				return changed(d, err);
			cl->kind = CELL_INT;
			cl->u.i = truth;
			break;
		case COL_TYPE_TEXT:
			cl->kind = CELL_TEXT;
			cl->u.t.off = bt->text.len;
			cl->u.t.len = f->len;
			buf_add(&bt->text, f->s, f->len);
			break;
		}
	}
	if (++bt->nrow == BATCH_ROWS && bq_push(&pl->q))
		return lm_seterr(err, EX_SOFTWARE, "stopped");
	return 0;
}

static void *producer(void *arg)
{
	pipeline *pl = arg;
	lm_err e = {0, ""};
	int st = csvin_read_file(pl->d->path, pl->d->path, -pl->d->delim, row_convert, pl, NULL,
				 NULL, &e);
	if (!st && pl->b[pl->q.tail].nrow)
		bq_push(&pl->q);
	if (st && !bq_stopped(&pl->q)) {
		pl->status = st;
		pl->err = e;
	}
	bq_finish(&pl->q);
	return NULL;
}

static int insert_batch(pipeline *pl, const batch *bt, lm_err *err)
{
	sqlite3_stmt *st = pl->d->ins;
	for (int r = 0; r < bt->nrow; r++) {
		const cell *cl = &bt->cells[(size_t)r * (size_t)pl->width];
		for (int j = 0; j < pl->width; j++) {
			const cell *c = &cl[j];
			switch (c->kind) {
			case CELL_NULL: sqlite3_bind_null(st, j + 1); break;
			case CELL_INT: sqlite3_bind_int64(st, j + 1, c->u.i); break;
			case CELL_REAL: sqlite3_bind_double(st, j + 1, c->u.d); break;
			default:
				/* the batch outlives the step below */
				sqlite3_bind_text(st, j + 1, bt->text.data + c->u.t.off, (int)c->u.t.len,
						  SQLITE_STATIC);
			}
		}
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return sql_fail(pl->d->db, rc, err);
		pl->d->inserted++;
	}
	return 0;
}

static int load_rows(dset *d, lm_err *err)
{
	pipeline pl;
	memset(&pl, 0, sizeof pl);
	pl.d = d;
	pl.width = d->ncol + (d->visits ? 1 : 0);
	for (int i = 0; i < NBATCH; i++)
		pl.b[i].cells = xmallocarray((size_t)BATCH_ROWS * (size_t)pl.width, sizeof(cell));
	bq_init(&pl.q, NBATCH);
	pthread_t th;
	int st = 0;
	if (pthread_create(&th, NULL, producer, &pl) != 0) {
		st = lm_seterr(err, EX_OSERR, "cannot start a thread");
		goto out;
	}
	for (int k; (k = bq_pop(&pl.q)) >= 0;) {
		batch *bt = &pl.b[k];
		st = insert_batch(&pl, bt, err);
		bt->nrow = 0;
		bt->text.len = 0;
		bq_release(&pl.q, st != 0);
		if (st)
			break;
	}
	pthread_join(th, NULL);
	if (!st && pl.status) {
		*err = pl.err;
		st = pl.status;
	}
out:
	for (int i = 0; i < NBATCH; i++) {
		free(pl.b[i].cells);
		buf_free(&pl.b[i].text);
	}
	bq_destroy(&pl.q);
	return st;
}

static const char *decl_type(col_type t)
{
	switch (t) {
	case COL_TYPE_INTEGER: return "INTEGER";
	case COL_TYPE_REAL: return "REAL";
	case COL_TYPE_BOOLEAN: return "BOOLEAN";
	default: return "TEXT";
	}
}

static int create_table(dset *d, const char *table, lm_err *err)
{
	lm_buf sql = {0}, ins = {0};
	char *q = sqlite3_mprintf("CREATE TABLE \"%w\"(", table);
	buf_puts(&sql, q);
	sqlite3_free(q);
	q = sqlite3_mprintf("INSERT INTO \"%w\" VALUES(", table);
	buf_puts(&ins, q);
	sqlite3_free(q);
	if (d->visits) {
		buf_puts(&sql, "\"__patient\" INTEGER NOT NULL REFERENCES patients(rowid), ");
		buf_puts(&ins, "?, ");
	}
	for (int j = 0; j < d->ncol; j++) {
		q = sqlite3_mprintf("%s\"%w\" %s", j ? ", " : "", d->col[j].name,
				    decl_type(d->fast ? d->col[j].ptype : d->col[j].type));
		buf_puts(&sql, q);
		sqlite3_free(q);
		buf_puts(&ins, j ? ", ?" : "?");
	}
	buf_puts(&sql, ")");
	buf_puts(&ins, ")");
	int st = store_exec(d->db, sql.data, err);
	if (!st && !(d->ins = store_prepare(d->db, ins.data, err)))
		st = err->status;
	buf_free(&sql);
	buf_free(&ins);
	return st;
}

static int cat_cmp(const void *a, const void *b)
{
	const catent *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(cat_str(x), cat_str(y));
}

static void bind_num(sqlite3_stmt *st, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int import_store_columns(dset *d, const char *dataset, lm_err *err)
{
	sqlite3_stmt *st = store_prepare(
		d->db,
		"INSERT INTO columns(dataset, position, name, type, role, missing, distinct_count,"
		" categories, mean, sd, min, max) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
		err);
	if (!st)
		return err->status;
	for (int j = 0; j < d->ncol; j++) {
		colacc *c = &d->col[j];
		double mean = NAN, sd = NAN, mn = NAN, mx = NAN;
		long distinct = c->rows_distinct ? c->rows_distinct
				: c->overflow  ? hll_estimate(c->hll)
					       : c->cats.n;
		char *cats = NULL;
		if (c->type == COL_TYPE_INTEGER || c->type == COL_TYPE_REAL) {
			if (c->n > 0) {
				if (c->wide) /* the mean of finite values is finite, in either order */
					mean = (double)((long double)c->shift + c->lsum / (long double)c->n);
				else
					mean = c->shift + c->sum / (double)c->n;
				mn = c->min;
				mx = c->max;
			}
			if (c->n > 1 && c->wide) {
				long double n = (long double)c->n,
					    var = (c->lsumsq - c->lsum * c->lsum / n) / (n - 1);
				/* an sd beyond the double range stays unknown (NULL) */
				sd = var > 0 ? (double)sqrtl(var) : 0;
			} else if (c->n > 1) {
				sd = sqrt(fmax(0, (c->sumsq - c->sum * c->sum / (double)c->n) /
						    (double)(c->n - 1)));
			}
		} else if (c->type == COL_TYPE_BOOLEAN && c->n > 0) {
			double pr = (double)c->ntrue / (double)c->n;
			mean = pr;
			if (c->n > 1)
				sd = sqrt(pr * (1 - pr) * (double)c->n / (double)(c->n - 1));
			mn = c->ntrue < c->n ? 0 : 1;
			mx = c->ntrue > 0 ? 1 : 0;
			distinct = (c->ntrue > 0) + (c->ntrue < c->n);
		}
		if ((c->type == COL_TYPE_TEXT || c->type == COL_TYPE_BOOLEAN) && !c->overflow) {
			if (c->cats.n)
				qsort(c->cats.e, (size_t)c->cats.n, sizeof *c->cats.e, cat_cmp);
			cJSON *a = cJSON_CreateArray();
			for (int k = 0; k < c->cats.n; k++) {
				cJSON *e = cJSON_CreateObject();
				cJSON_AddStringToObject(e, "value", cat_str(&c->cats.e[k]));
				cJSON_AddNumberToObject(e, "n", (double)c->cats.e[k].n);
				cJSON_AddItemToArray(a, e);
			}
			cats = cJSON_PrintUnformatted(a);
			cJSON_Delete(a);
		}
		sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, j + 1);
		sqlite3_bind_text(st, 3, c->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, store_type_name(c->type), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, store_role_name(c->role), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, c->missing);
		sqlite3_bind_int64(st, 7, distinct);
		if (cats)
			sqlite3_bind_text(st, 8, cats, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 8);
		bind_num(st, 9, mean);
		bind_num(st, 10, sd);
		bind_num(st, 11, mn);
		bind_num(st, 12, mx);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		free(cats);
		if (rc != SQLITE_DONE) {
			sqlite3_finalize(st);
			return sql_fail(d->db, rc, err);
		}
	}
	sqlite3_finalize(st);
	return 0;
}

const char *import_base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int import_store_dataset(dset *d, const char *name, lm_err *err)
{
	sqlite3_stmt *st = store_prepare(d->db,
					 "INSERT INTO datasets(name, file, sha256, rows, columns,"
					 " delimiter, imported_at) VALUES(?,?,?,?,?,?,?)",
					 err);
	if (!st)
		return err->status;
	char now[32], dl[2] = {(char)d->delim, 0};
	lm_now_iso(now);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, import_base_name(d->path), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d->sha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, d->rows);
	sqlite3_bind_int(st, 5, d->ncol - d->row_ids); /* the CSV's own columns */
	sqlite3_bind_text(st, 6, dl, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sql_fail(d->db, rc, err);
}

void import_dset_free(dset *d)
{
	if (d->ins)
		sqlite3_finalize(d->ins);
	for (int j = 0; j < d->ncol; j++)
		import_colacc_free(&d->col[j]);
	free(d->col);
	free(d->hs);
	if (d->own_pids) {
		idset_free(d->pids);
		free(d->pids);
	}
}

/* Pass 1 also runs as a pipeline: a producer thread parses and checks the CSV (csvin) and
 * copies each record, with its fields' positions, into batches; the caller's thread runs
 * the statistics over them in order. Records reach import_row_pass1 in file order, so the first
 * error reported is the same as with one thread: a record error found by import_row_pass1 stops
 * the producer, and a parse error is reported only after every record before it. */
typedef struct rawrow {
	long record, end_line, end_col;
	int first, n;
} rawrow;

typedef struct rawbatch {
	int nrow, nfield, capfield;
	rawrow row[BATCH_ROWS];
	csvin_field *f; /* point into text, which never moves while the batch has rows */
	uint64_t *h;    /* import_hash of each field, computed here to spare the other thread */
	lm_buf text;
} rawbatch;

#define RAW_TEXT (512 << 10) /* a batch's text capacity, unless one record is larger */

typedef struct rawpipe {
	dset *d;
	bqueue q; /* the same bounded queue as pass 2's */
	rawbatch b[NBATCH];
	int status, delim; /* the producer's, read after pthread_join */
	lm_sha256 sha;     /* the file's, as the producer reads it */
	lm_err err;
} rawpipe;

static int row_copy(void *ctx, const csvin_row *row, lm_err *err)
{
	rawpipe *rp = ctx;
	rawbatch *bt = &rp->b[rp->q.tail];
	/* the fields lie one after the other in one buffer (csvin.h): one copy */
	const char *base = row->n ? row->f[0].s : "";
	size_t need = row->n ? (size_t)(row->f[row->n - 1].s - base) + row->f[row->n - 1].len + 1 : 0;
	if (bt->text.len + need > bt->text.cap) {
		/* full: hand the batch over rather than move its text (its fields point into it) */
		if (bt->nrow) {
			if (bq_push(&rp->q))
				return lm_seterr(err, EX_SOFTWARE, "stopped");
			bt = &rp->b[rp->q.tail];
		}
		if (need > bt->text.cap) {
			bt->text.cap = need > RAW_TEXT ? need : RAW_TEXT;
			free(bt->text.data);
			bt->text.data = xmalloc(bt->text.cap);
		}
	}
	if (bt->nfield + row->n > bt->capfield) {
		while (bt->nfield + row->n > bt->capfield)
			bt->capfield = bt->capfield ? 2 * bt->capfield : 4096;
		bt->f = xreallocarray(bt->f, (size_t)bt->capfield, sizeof *bt->f);
		bt->h = xreallocarray(bt->h, (size_t)bt->capfield, sizeof *bt->h);
	}
	bt->row[bt->nrow] = (rawrow){row->record, row->end_line, row->end_col, bt->nfield, row->n};
	char *at = bt->text.data + bt->text.len;
	if (need)
		memcpy(at, base, need);
	bt->text.len += need;
	for (int j = 0; j < row->n; j++) {
		const csvin_field *f = &row->f[j];
		bt->h[bt->nfield] = import_hash(f->s, f->len);
		bt->f[bt->nfield++] = (csvin_field){at + (f->s - base), f->len, f->line, f->col};
	}
	if (++bt->nrow == BATCH_ROWS && bq_push(&rp->q))
		return lm_seterr(err, EX_SOFTWARE, "stopped");
	return 0;
}

static void *producer1(void *arg)
{
	rawpipe *rp = arg;
	lm_err e = {0, ""};
	int delim = 0;
	int st = csvin_read_file(rp->d->path, rp->d->path, rp->d->o->delim, row_copy, rp, &rp->sha,
				 &delim, &e);
	if (rp->b[rp->q.tail].nrow && !bq_stopped(&rp->q))
		bq_push(&rp->q); /* the records before an error still count */
	rp->delim = delim;
	if (st && !bq_stopped(&rp->q)) {
		rp->status = st;
		rp->err = e;
	}
	bq_finish(&rp->q);
	return NULL;
}

static int stats_batch(dset *d, const rawbatch *bt, lm_err *err)
{
	for (int r = 0; r < bt->nrow; r++) {
		const rawrow *rr = &bt->row[r];
		csvin_row row = {rr->record, rr->n, &bt->f[rr->first], rr->end_line, rr->end_col};
		d->given = &bt->h[rr->first];
		int st = import_row_pass1(d, &row, err);
		d->given = NULL;
		if (st)
			return st;
	}
	return 0;
}

static int scan_rows(dset *d, lm_err *err)
{
	rawpipe rp;
	memset(&rp, 0, sizeof rp);
	rp.d = d;
	sha256_init(&rp.sha);
	bq_init(&rp.q, NBATCH);
	int st = 0;
	pthread_t th;
	if (pthread_create(&th, NULL, producer1, &rp) != 0) {
		st = lm_seterr(err, EX_OSERR, "cannot start a thread");
		goto out;
	}
	for (int k; (k = bq_pop(&rp.q)) >= 0;) {
		rawbatch *bt = &rp.b[k];
		st = stats_batch(d, bt, err);
		bt->nrow = bt->nfield = 0;
		bt->text.len = 0;
		bq_release(&rp.q, st != 0);
		if (st)
			break;
	}
	pthread_join(th, NULL);
	d->delim = rp.delim;
	if (!st && rp.status) {
		*err = rp.err;
		st = rp.status;
	}
	if (!st)
		sha256_hex(&rp.sha, d->sha);
out:
	for (int i = 0; i < NBATCH; i++) {
		free(rp.b[i].f);
		free(rp.b[i].h);
		buf_free(&rp.b[i].text);
	}
	bq_destroy(&rp.q);
	return st;
}

int import_pass1(dset *d, lm_err *err)
{
	d->id = -1;
	int st = scan_rows(d, err);
	if (st)
		return st;
	if (d->rows == 0)
		return csvin_error_at(err, d->path, 2, 1, "no rows after the header");
	for (int j = 0; j < d->ncol; j++) {
		import_colacc_decide(&d->col[j]);
		/* the single pass stands only when every provisional type proved final */
		if (d->col[j].type != d->col[j].ptype)
			d->fast = 0;
	}
	/* a visit time is a number even when it only takes the values 0 and 1 */
	if (d->visits && !d->col[d->tcol].forced && d->col[d->tcol].type == COL_TYPE_BOOLEAN)
		d->col[d->tcol].type = COL_TYPE_INTEGER;
	return 0;
}

int import_pass2(dset *d, const char *table, lm_err *err)
{
	int st;
	if (d->fast) /* the rows went in during pass 1 */
		return d->inserted == d->rows ? 0 : changed(d, err);
	if (d->ins) {
		/* the single pass stopped: its table goes, pass 2 inserts every row */
		sqlite3_finalize(d->ins);
		d->ins = NULL;
		d->inserted = 0;
		char *q = sqlite3_mprintf("DROP TABLE \"%w\"", table);
		st = store_exec(d->db, q, err);
		sqlite3_free(q);
		if (st)
			return st;
	}
	st = create_table(d, table, err);
	if (st)
		return st;
	st = load_rows(d, err);
	if (!st && d->inserted != d->rows)
		st = lm_seterr(err, EX_DATAERR, "%s: the file changed during the import", d->path);
	return st;
}

