/* visits_enc.c: the visit-sequence encoder (visits_enc.h). */
#include "visits_enc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void venc_visits_free(venc_visits *v)
{
	if (!v)
		return;
	for (int j = 0; j < v->nlab; j++)
		free(v->lab[j]);
	free(v->lab);
	free(v->time_col);
	free(v->time);
	free(v->val);
	free(v->start);
	free(v);
}

int venc_attach(sqlite3 *db, frame *f, lm_err *err)
{
	if (f->visits)
		return 0;
	if (!store_has_table(db, "visits"))
		return lm_seterr(err, EX_DATAERR, "the model reads visits and the workbench file has "
				 "none (import with --visits VISITS.csv)");
	store_columns vc;
	int st = store_columns_load(db, "visits", &vc, err);
	if (st)
		return st;
	int tcol = store_columns_role(&vc, COL_ROLE_TIME);
	if (tcol < 0) {
		store_columns_free(&vc);
		return lm_seterr(err, EX_DATAERR, "the visits have no time column");
	}
	const char **names = xcalloc((size_t)vc.n + 1, sizeof *names);
	int nn = 0;
	names[nn++] = vc.c[tcol].name;
	for (int j = 0; j < vc.n; j++)
		/* numeric labs, and a column with no value at all (typed text by the import:
		 * venc_fit leaves it out and says so) */
		if (j != tcol && vc.c[j].role == COL_ROLE_FEATURE &&
		    (vc.c[j].type != COL_TYPE_TEXT || vc.c[j].distinct == 0))
			names[nn++] = vc.c[j].name;
	frame vf;
	st = frame_load(db, "visits", names, nn, &vf, err);
	if (st) {
		free(names);
		store_columns_free(&vc);
		return st;
	}
	venc_visits *v = xcalloc(1, sizeof *v);
	v->time_col = xstrdup(names[0]);
	v->nlab = nn - 1;
	v->lab = xcalloc((size_t)(nn ? nn : 1), sizeof *v->lab);
	for (int j = 1; j < nn; j++)
		v->lab[j - 1] = xstrdup(names[j]);
	free(names);
	store_columns_free(&vc);
	v->nvisit = vf.nrow;
	size_t nv = (size_t)(vf.nrow ? vf.nrow : 1);
	v->time = xmallocarray(nv, sizeof *v->time);
	v->val = xmallocarray(nv * (size_t)(v->nlab ? v->nlab : 1), sizeof *v->val);
	long maxrow = 0;
	for (long i = 0; i < f->nrow; i++)
		maxrow = f->rowid[i] > maxrow ? f->rowid[i] : maxrow;
	for (long i = 0; i < vf.nrow; i++)
		maxrow = vf.rowid[i] > maxrow ? vf.rowid[i] : maxrow;
	v->maxrow = maxrow;
	v->start = xcalloc((size_t)maxrow + 2, sizeof *v->start);
	for (long i = 0; i < vf.nrow; i++) {
		if (i > 0 && vf.rowid[i] < vf.rowid[i - 1]) {
			/* import sorts them; a file that does not is damaged */
			st = lm_seterr(err, EX_DATAERR, "visits are not sorted by patient (visit %ld)", i + 1);
			break;
		}
		v->time[i] = vf.col[0].v[i];
		if (isnan(v->time[i])) {
			st = lm_seterr(err, EX_DATAERR, "visit %ld has no time ('%s')", i + 1, v->time_col);
			break;
		}
		for (int j = 0; j < v->nlab; j++)
			v->val[(size_t)i * v->nlab + j] = vf.col[j + 1].v[i];
		v->start[vf.rowid[i] + 1]++;
	}
	for (long r = 1; r <= maxrow + 1; r++)
		v->start[r] += v->start[r - 1];
	frame_free(&vf);
	if (st) {
		venc_visits_free(v);
		return st;
	}
	f->visits = v;
	return 0;
}

static int is_visit_slot(const enc_slot *s) { return s->kind == SLOT_VISIT; }

int venc_geometry(const enc_spec *spec, int *S, int *K, int *F)
{
	int s0 = spec->nslot;
	for (int s = 0; s < spec->nslot; s++)
		if (is_visit_slot(&spec->slot[s])) {
			s0 = s;
			break;
		}
	*S = s0;
	*K = *F = 0;
	if (s0 == spec->nslot)
		return 0;
	for (int s = s0; s < spec->nslot; s++)
		if (spec->slot[s].category && !strcmp(spec->slot[s].category, "present")) {
			*F = s - s0 + 1;
			break;
		}
	if (*F > 0)
		*K = (spec->nslot - s0) / *F;
	return *F > 0 && *K * *F == spec->nslot - s0;
}

int venc_static_columns(const enc_spec *spec)
{
	for (int t = 0; t < spec->ncolumn; t++)
		if (!strncmp(spec->columns[t], "visits.", 7))
			return t;
	return spec->ncolumn;
}

static int add_column(enc_spec *spec, const char *name)
{
	spec->columns = xreallocarray(spec->columns, (size_t)spec->ncolumn + 1, sizeof *spec->columns);
	spec->column_type = xreallocarray(spec->column_type, (size_t)spec->ncolumn + 1,
					  sizeof *spec->column_type);
	spec->columns[spec->ncolumn] = xasprintf("visits.%s", name);
	spec->column_type[spec->ncolumn] = COL_TYPE_REAL;
	return spec->ncolumn++;
}

static void add_slot(enc_spec *spec, char *name, int token, const char *category)
{
	spec->slot = xreallocarray(spec->slot, (size_t)spec->nslot + 1, sizeof *spec->slot);
	enc_slot *s = &spec->slot[spec->nslot++];
	memset(s, 0, sizeof *s);
	s->name = name;
	s->column = xstrdup(spec->columns[token]);
	s->kind = SLOT_VISIT;
	s->category = xstrdup(category);
	s->center = 0;
	s->scale = 1;
	s->token = token;
}

/* Per-lab mean and sd, and the sds of the two time gaps, over the visits of rows. */
typedef struct vstats {
	double *mean, *sd;
	double sd_prev, sd_first;
	long *count;
} vstats;

static void stats_of(const venc_visits *v, const frame *f, const long *rows, long nrows,
		     vstats *o)
{
	int L = v->nlab;
	o->mean = xcalloc((size_t)(L ? L : 1), sizeof *o->mean);
	o->sd = xcalloc((size_t)(L ? L : 1), sizeof *o->sd);
	o->count = xcalloc((size_t)(L ? L : 1), sizeof *o->count);
	double *ss = xcalloc((size_t)(L ? L : 1), sizeof *ss);
	double sp = 0, sf = 0;
	long nt = 0;
	/* Welford per lab; gaps are at least 0, their sd about 0 (scale only) */
	for (long i = 0; i < nrows; i++) {
		long id = f->rowid[rows[i]];
		if (id < 1 || id > v->maxrow)
			continue;
		for (long k = v->start[id]; k < v->start[id + 1]; k++) {
			for (int j = 0; j < L; j++) {
				double x = v->val[(size_t)k * L + j];
				if (isnan(x))
					continue;
				long c = ++o->count[j];
				double d = x - o->mean[j];
				o->mean[j] += d / (double)c;
				ss[j] += d * (x - o->mean[j]);
			}
			double dp = k > v->start[id] ? v->time[k] - v->time[k - 1] : 0;
			double df = v->time[k] - v->time[v->start[id]];
			sp += dp * dp;
			sf += df * df;
			nt++;
		}
	}
	for (int j = 0; j < L; j++) {
		double sd = o->count[j] ? sqrt(ss[j] / (double)o->count[j]) : 0;
		o->sd[j] = sd > 1e-12 ? sd : 1.0;
	}
	o->sd_prev = nt && sp > 0 ? sqrt(sp / (double)nt) : 1.0;
	o->sd_first = nt && sf > 0 ? sqrt(sf / (double)nt) : 1.0;
	free(ss);
}

static void stats_free(vstats *o)
{
	free(o->mean);
	free(o->sd);
	free(o->count);
}

int venc_fit(enc_spec *spec, const frame *f, const long *rows, long nrows, int K,
	     char **warn, lm_err *err)
{
	if (warn)
		*warn = NULL;
	const venc_visits *v = f->visits;
	if (!v)
		return lm_seterr(err, EX_SOFTWARE, "venc_fit without visits");
	if (K < 1)
		return lm_seterr(err, EX_USAGE, "at least one visit step");
	vstats st;
	stats_of(v, f, rows, nrows, &st);
	int *keep = xcalloc((size_t)(v->nlab ? v->nlab : 1), sizeof *keep), nkeep = 0;
	lm_buf left = {0};
	for (int j = 0; j < v->nlab; j++) {
		if (st.count[j] > 0) {
			keep[nkeep++] = j;
		} else {
			buf_puts(&left, left.len ? ", " : "");
			buf_puts(&left, v->lab[j]);
		}
	}
	if (left.len && warn)
		*warn = xasprintf("visit labs with no value in the training patients' visits left "
				  "out: %s", left.data);
	buf_free(&left);
	if (nkeep == 0) {
		free(keep);
		stats_free(&st);
		return lm_seterr(err, EX_DATAERR, "the visits have no numeric lab with a value");
	}
	int *tok = xmallocarray((size_t)nkeep, sizeof *tok);
	for (int q = 0; q < nkeep; q++)
		tok[q] = add_column(spec, v->lab[keep[q]]);
	int tp = add_column(spec, "dt_prev"), tf = add_column(spec, "dt_first"),
	    tv = add_column(spec, "present");
	for (int t = 0; t < K; t++) {
		int k = K - t;
		for (int q = 0; q < nkeep; q++) {
			int j = keep[q];
			add_slot(spec, xasprintf("%s[-%d]", v->lab[j], k), tok[q], "value");
			spec->slot[spec->nslot - 1].center = st.mean[j];
			spec->slot[spec->nslot - 1].scale = st.sd[j];
			add_slot(spec, xasprintf("%s:missing[-%d]", v->lab[j], k), tok[q], "missing");
		}
		add_slot(spec, xasprintf("dt_prev[-%d]", k), tp, "dt_prev");
		spec->slot[spec->nslot - 1].scale = st.sd_prev;
		add_slot(spec, xasprintf("dt_first[-%d]", k), tf, "dt_first");
		spec->slot[spec->nslot - 1].scale = st.sd_first;
		add_slot(spec, xasprintf("visit[-%d]", k), tv, "present");
	}
	free(tok);
	free(keep);
	stats_free(&st);
	return 0;
}

/* The visits-table lab index of every value slot's lab, for one step's F features. */
static int lab_index(const venc_visits *v, const char *column)
{
	const char *name = column + 7; /* after "visits." */
	for (int j = 0; j < v->nlab; j++)
		if (!strcmp(v->lab[j], name))
			return j;
	return -1;
}

void venc_refit(enc_spec *spec, const frame *f, const long *rows, long nrows)
{
	int S, K, F;
	if (!venc_geometry(spec, &S, &K, &F) || !f->visits)
		return;
	vstats st;
	stats_of(f->visits, f, rows, nrows, &st);
	for (int s = S; s < spec->nslot; s++) {
		enc_slot *sl = &spec->slot[s];
		if (!strcmp(sl->category, "value")) {
			int j = lab_index(f->visits, sl->column);
			if (j >= 0) {
				sl->center = st.count[j] ? st.mean[j] : 0;
				sl->scale = st.sd[j];
			}
		} else if (!strcmp(sl->category, "dt_prev")) {
			sl->scale = st.sd_prev;
		} else if (!strcmp(sl->category, "dt_first")) {
			sl->scale = st.sd_first;
		}
	}
	stats_free(&st);
}

int venc_encode(const enc_spec *spec, const frame *f, const long *rows, long nrows, float *X,
		lm_err *err)
{
	int S, K, F;
	if (!venc_geometry(spec, &S, &K, &F))
		return 0;
	const venc_visits *v = f->visits;
	if (!v)
		return lm_seterr(err, EX_DATAERR, "the model reads visits and none were loaded");
	/* what each of a step's F features reads: a lab index (value / missing), or -1 */
	int *lab = xmallocarray((size_t)F, sizeof *lab);
	char *what = xmallocarray((size_t)F, 1);
	for (int q = 0; q < F; q++) {
		const enc_slot *sl = &spec->slot[S + q];
		const char *c = sl->category ? sl->category : "";
		what[q] = !strcmp(c, "value") ? 'v' : !strcmp(c, "missing") ? 'm'
			  : !strcmp(c, "dt_prev") ? 'p' : !strcmp(c, "dt_first") ? 'f' : 'x';
		lab[q] = -1;
		if (what[q] == 'v' || what[q] == 'm') {
			lab[q] = lab_index(v, sl->column);
			if (lab[q] < 0 && v->nvisit > 0) {
				int st = lm_seterr(err, EX_DATAERR, "the visits have no column '%s' (the "
						   "model needs it)", sl->column + 7);
				free(lab);
				free(what);
				return st;
			}
		}
	}
	size_t ns = (size_t)spec->nslot;
	for (long i = 0; i < nrows; i++) {
		float *x = X + (size_t)i * ns + S;
		memset(x, 0, (size_t)K * F * sizeof *x);
		long id = f->rowid[rows[i]];
		if (id < 1 || id > v->maxrow)
			continue; /* no visits: an empty sequence */
		long a = v->start[id], b = v->start[id + 1];
		long kept = b - a < K ? b - a : K;
		for (long k = b - kept; k < b; k++) {
			int t = K - (int)(b - k);
			float *xt = x + (size_t)t * F;
			const enc_slot *sl = &spec->slot[S + (size_t)t * F];
			for (int q = 0; q < F; q++) {
				double val = 0;
				switch (what[q]) {
				case 'v': {
					double r = lab[q] < 0 ? (double)NAN : v->val[(size_t)k * v->nlab + lab[q]];
					val = isnan(r) ? 0 : (r - sl[q].center) / sl[q].scale;
					break;
				}
				case 'm':
					val = lab[q] < 0 || isnan(v->val[(size_t)k * v->nlab + lab[q]]);
					break;
				case 'p': val = k > a ? (v->time[k] - v->time[k - 1]) / sl[q].scale : 0; break;
				case 'f': val = (v->time[k] - v->time[a]) / sl[q].scale; break;
				default: val = 1; break;
				}
				xt[q] = (float)val;
			}
		}
	}
	free(lab);
	free(what);
	return 0;
}

void venc_values(const enc_spec *spec, const venc_visits *v, long rowid, float *x)
{
	venc_visits none;
	memset(&none, 0, sizeof none);
	frame one;
	memset(&one, 0, sizeof one);
	long row = 0;
	one.nrow = 1;
	one.rowid = &rowid;
	one.visits = (venc_visits *)(v ? v : &none); /* read only */
	venc_encode(spec, &one, &row, 1, x, NULL);
}
