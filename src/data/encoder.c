/* encoder.c: the model matrix — input slots fitted on training rows, encoding of frame rows and
 * of single patients, targets, and stratified folds. See encoder.h for the encoding rules. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encoder.h"
#include "visits_enc.h"
#include "import.h"

/* Label of a frame cell of a text column with categories, or NULL when missing/free text. */
static const char *cell_label(const frame_col *c, long r)
{
	if (c->str)
		return c->str[r];
	double v = c->v[r];
	if (isnan(v))
		return NULL;
	int k = (int)v;
	return k >= 0 && k < c->meta->ncat ? c->meta->cats[k] : NULL;
}

static void slot_add(enc_spec *s, int *cap, const char *name, const char *column,
		     slot_kind kind, const char *cat, double center, double scale, int token)
{
	if (s->nslot == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		s->slot = xreallocarray(s->slot, (size_t)*cap, sizeof *s->slot);
	}
	enc_slot *sl = &s->slot[s->nslot++];
	sl->name = xstrdup(name);
	sl->column = xstrdup(column);
	sl->kind = kind;
	sl->category = cat ? xstrdup(cat) : NULL;
	sl->center = center;
	sl->scale = scale;
	sl->token = token;
}

int enc_fit(const frame *f, const char *const *features, int nfeat, const long *rows,
		    long nrows, enc_spec *spec, lm_err *err)
{
	memset(spec, 0, sizeof *spec);
	if (nfeat <= 0)
		return lm_seterr(err, EX_DATAERR, "no feature columns");
	spec->columns = xcalloc((size_t)nfeat, sizeof *spec->columns);
	spec->column_type = xcalloc((size_t)nfeat, sizeof *spec->column_type);
	int cap = 0;
	for (int t = 0; t < nfeat; t++) {
		int j = frame_find(f, features[t]);
		if (j < 0) {
			enc_free(spec);
			return lm_seterr(err, EX_DATAERR, "no column '%s'", features[t]);
		}
		const frame_col *c = &f->col[j];
		const char *name = c->meta->name;
		spec->columns[t] = xstrdup(name);
		spec->column_type[t] = c->meta->type;
		spec->ncolumn = t + 1;
		long nmiss = 0;
		if (c->meta->type == COL_TYPE_TEXT) {
			if (c->str) {
				enc_free(spec);
				return lm_seterr(err, EX_DATAERR,
						 "column '%s' is free text (%ld distinct values) and cannot be a feature",
						 name, c->meta->distinct);
			}
			int ncat = c->meta->ncat;
			long *seen = xcalloc((size_t)(ncat ? ncat : 1), sizeof *seen);
			for (long i = 0; i < nrows; i++) {
				double v = c->v[rows[i]];
				if (isnan(v))
					nmiss++;
				else if ((int)v >= 0 && (int)v < ncat)
					seen[(int)v]++;
			}
			int any = 0;
			/* categories in the column's order (most frequent first), seen in training only */
			for (int k = 0; k < ncat; k++) {
				if (!seen[k])
					continue;
				char *sn = xasprintf("%s=%s", name, c->meta->cats[k]);
				slot_add(spec, &cap, sn, name, SLOT_ONEHOT, c->meta->cats[k], 0, 1, t);
				free(sn);
				any = 1;
			}
			free(seen);
			if (!any) {
				enc_free(spec);
				return lm_seterr(err, EX_DATAERR, "feature '%s' has no values in the training rows",
						 name);
			}
		} else {
			double sum = 0;
			long n = 0;
			for (long i = 0; i < nrows; i++) {
				double v = c->v[rows[i]];
				if (isnan(v)) {
					nmiss++;
					continue;
				}
				sum += v;
				n++;
			}
			if (n == 0) {
				enc_free(spec);
				return lm_seterr(err, EX_DATAERR, "feature '%s' has no values in the training rows",
						 name);
			}
			double mean = sum / (double)n, ss = 0;
			for (long i = 0; i < nrows; i++) {
				double v = c->v[rows[i]];
				if (!isnan(v))
					ss += (v - mean) * (v - mean);
			}
			/* population sd, as scikit-learn's StandardScaler; a constant column keeps scale 1 */
			double sd = sqrt(ss / (double)n);
			slot_add(spec, &cap, name, name, SLOT_NUMERIC, NULL, mean, sd > 1e-12 ? sd : 1.0, t);
		}
		if (nmiss > 0) {
			char *sn = xasprintf("%s:missing", name);
			slot_add(spec, &cap, sn, name, SLOT_MISSING, NULL, 0, 1, t);
			free(sn);
		}
	}
	return 0;
}

void enc_free(enc_spec *spec)
{
	for (int i = 0; i < spec->nslot; i++) {
		free(spec->slot[i].name);
		free(spec->slot[i].column);
		free(spec->slot[i].category);
	}
	free(spec->slot);
	for (int t = 0; t < spec->ncolumn; t++)
		free(spec->columns[t]);
	free(spec->columns);
	free(spec->column_type);
	memset(spec, 0, sizeof *spec);
}

void enc_copy(const enc_spec *src, enc_spec *dst)
{
	memset(dst, 0, sizeof *dst);
	dst->nslot = src->nslot;
	dst->slot = xcalloc((size_t)(src->nslot ? src->nslot : 1), sizeof *dst->slot);
	for (int s = 0; s < src->nslot; s++) {
		dst->slot[s] = src->slot[s];
		dst->slot[s].name = xstrdup(src->slot[s].name);
		dst->slot[s].column = xstrdup(src->slot[s].column);
		dst->slot[s].category = src->slot[s].category ? xstrdup(src->slot[s].category) : NULL;
	}
	dst->ncolumn = src->ncolumn;
	dst->columns = xcalloc((size_t)(src->ncolumn ? src->ncolumn : 1), sizeof *dst->columns);
	dst->column_type = xcalloc((size_t)(src->ncolumn ? src->ncolumn : 1), sizeof *dst->column_type);
	for (int t = 0; t < src->ncolumn; t++) {
		dst->columns[t] = xstrdup(src->columns[t]);
		dst->column_type[t] = src->column_type[t];
	}
}

void enc_refit(const enc_spec *layout, const frame *f, const long *rows, long nrows,
		       enc_spec *out)
{
	enc_copy(layout, out);
	for (int s = 0; s < out->nslot; s++) {
		enc_slot *sl = &out->slot[s];
		int j = sl->kind == SLOT_VISIT ? -1 : frame_find(f, sl->column);
		if (j < 0) /* visit slots: venc_refit below */
			continue;
		const frame_col *c = &f->col[j];
		double sum = 0, ss = 0;
		long n = 0, hits = 0;
		for (long i = 0; i < nrows; i++) {
			double v = c->v[rows[i]];
			switch (sl->kind) {
			case SLOT_NUMERIC:
				if (!isnan(v)) {
					sum += v;
					n++;
				}
				break;
			case SLOT_ONEHOT: {
				const char *lab = cell_label(c, rows[i]);
				hits += lab && !strcmp(lab, sl->category);
				break;
			}
			case SLOT_MISSING:
				hits += c->str ? c->str[rows[i]] == NULL : isnan(v);
				break;
			case SLOT_VISIT:
				break;
			}
		}
		if (sl->kind != SLOT_NUMERIC) {
			sl->center = 0;
			sl->scale = hits ? 1 : 0;
			continue;
		}
		if (n == 0) { /* no value in these rows: everything imputes to 0 */
			sl->center = 0;
			sl->scale = 1;
			continue;
		}
		double mean = sum / (double)n;
		for (long i = 0; i < nrows; i++) {
			double v = c->v[rows[i]];
			if (!isnan(v))
				ss += (v - mean) * (v - mean);
		}
		double sd = sqrt(ss / (double)n);
		sl->center = mean;
		sl->scale = sd > 1e-12 ? sd : 1.0;
	}
	venc_refit(out, f, rows, nrows);
}

/* First slot of each token and the number of slots: slots of a column are contiguous. */
static void token_range(const enc_spec *spec, int t, int *first, int *count)
{
	*first = -1;
	*count = 0;
	for (int s = 0; s < spec->nslot; s++)
		if (spec->slot[s].token == t) {
			if (*first < 0)
				*first = s;
			(*count)++;
		}
}

/* Writes one column's slots for a raw value: num for numeric columns, label for text. */
static void encode_one(const enc_spec *spec, int first, int count, double num, int is_text,
		       const char *label, float *x)
{
	for (int s = first; s < first + count; s++) {
		const enc_slot *sl = &spec->slot[s];
		float v = 0;
		switch (sl->kind) {
		case SLOT_NUMERIC:
			v = isnan(num) ? 0.0f : (float)((num - sl->center) / sl->scale);
			break;
		case SLOT_ONEHOT:
			v = sl->scale == 0 ? 0.0f : label && !strcmp(label, sl->category) ? 1.0f : 0.0f;
			break;
		case SLOT_MISSING:
			v = sl->scale == 0 ? 0.0f : (is_text ? label == NULL : isnan(num)) ? 1.0f : 0.0f;
			break;
		case SLOT_VISIT: /* venc_encode */
			continue;
		}
		x[s] = v;
	}
}

int enc_encode(const enc_spec *spec, const frame *f, const long *rows, long nrows,
		  float *X, lm_err *err)
{
	int ns = spec->nslot, nstatic = venc_static_columns(spec);
	for (int t = 0; t < nstatic; t++) {
		int j = frame_find(f, spec->columns[t]);
		if (j < 0)
			return lm_seterr(err, EX_DATAERR, "no column '%s' (the model needs it)",
					 spec->columns[t]);
		const frame_col *c = &f->col[j];
		int want_text = spec->column_type[t] == COL_TYPE_TEXT;
		int have_text = c->meta->type == COL_TYPE_TEXT;
		if (!want_text && have_text) {
			/* find a value that is not a number, to name it */
			for (long i = 0; i < nrows; i++) {
				const char *lab = cell_label(c, rows[i]);
				double d;
				if (lab && parse_double(lab, &d) != 0)
					return lm_seterr(err, EX_DATAERR,
							 "column '%s', patient %ld: '%s' is not a number",
							 spec->columns[t], f->rowid[rows[i]], lab);
			}
		}
		int first, count;
		token_range(spec, t, &first, &count);
		if (first < 0)
			continue;
		/* text frames: map each frame category to a spec slot once (label match) */
		int *map = NULL;
		if (want_text && have_text && !c->str) {
			int ncat = c->meta->ncat;
			map = xmallocarray((size_t)(ncat ? ncat : 1), sizeof *map);
			for (int k = 0; k < ncat; k++) {
				map[k] = -1;
				for (int s = first; s < first + count; s++)
					if (spec->slot[s].kind == SLOT_ONEHOT &&
					    !strcmp(spec->slot[s].category, c->meta->cats[k]))
						map[k] = s;
			}
		}
		char buf[64];
		for (long i = 0; i < nrows; i++) {
			long r = rows[i];
			float *x = X + (size_t)i * (size_t)ns;
			if (map) {
				double v = c->v[r];
				int miss = isnan(v);
				for (int s = first; s < first + count; s++)
					x[s] = spec->slot[s].kind == SLOT_MISSING && spec->slot[s].scale != 0
						       ? (float)miss
						       : 0.0f;
				if (!miss && (int)v >= 0 && (int)v < c->meta->ncat && map[(int)v] >= 0 &&
				    spec->slot[map[(int)v]].scale != 0)
					x[map[(int)v]] = 1.0f;
			} else if (want_text) {
				const char *lab = have_text ? cell_label(c, r)
							    : (isnan(c->v[r]) ? NULL
									      : frame_cell_text(f, j, r, buf, sizeof buf));
				encode_one(spec, first, count, NAN, 1, lab, x);
			} else {
				double v = c->v[r];
				if (have_text) {
					const char *lab = cell_label(c, r);
					if (!lab || parse_double(lab, &v) != 0)
						v = NAN;
				}
				encode_one(spec, first, count, v, 0, NULL, x);
			}
		}
		free(map);
	}
	return nstatic < spec->ncolumn ? venc_encode(spec, f, rows, nrows, X, err) : 0;
}

void enc_values(const enc_spec *spec, const enc_value *vals, float *x)
{
	int nstatic = venc_static_columns(spec);
	if (nstatic < spec->ncolumn)
		venc_values(spec, vals[nstatic].visits, vals[nstatic].rowid, x);
	for (int t = 0; t < nstatic; t++) {
		int first, count;
		token_range(spec, t, &first, &count);
		if (first < 0)
			continue;
		int is_text = spec->column_type[t] == COL_TYPE_TEXT;
		encode_one(spec, first, count, vals[t].num, is_text, vals[t].text, x);
	}
}

void enc_sum_to_columns(const enc_spec *spec, const float *slots, float *out)
{
	for (int t = 0; t < spec->ncolumn; t++)
		out[t] = 0;
	for (int s = 0; s < spec->nslot; s++)
		out[spec->slot[s].token] += slots[s];
}

/* ---- targets ---- */

typedef struct level {
	double v;        /* numeric value, or category index for text */
	const char *lab; /* text label (text columns) */
	long n;
} level;

static int level_cmp_num(const void *a, const void *b)
{
	double x = ((const level *)a)->v, y = ((const level *)b)->v;
	return x < y ? -1 : x > y;
}

static int level_cmp_text(const void *a, const void *b)
{
	return strcmp(((const level *)a)->lab, ((const level *)b)->lab);
}

static char *num_label(double v) { return xasprintf("%.15g", v); }

int enc_target_make(const frame *f, const char *column, const char *positive,
		       enc_target *t, lm_err *err)
{
	memset(t, 0, sizeof *t);
	int j = frame_find(f, column);
	if (j < 0)
		return lm_seterr(err, EX_DATAERR, "no column '%s'", column);
	const frame_col *c = &f->col[j];
	int is_text = c->meta->type == COL_TYPE_TEXT;
	if (is_text && c->str)
		return lm_seterr(err, EX_DATAERR,
				 "target '%s' is free text (%ld distinct values), not an outcome", column,
				 c->meta->distinct);
	/* distinct levels among non-missing rows */
	int nlev = 0, cap = 0;
	level *lev = NULL;
	long nmiss = 0;
	for (long r = 0; r < f->nrow; r++) {
		double v = c->v[r];
		if (isnan(v)) {
			nmiss++;
			continue;
		}
		int k;
		for (k = 0; k < nlev && lev[k].v != v; k++)
			;
		if (k == nlev) {
			if (nlev == 64) { /* more levels than any class target has: stop counting */
				lev[0].n++;
				continue;
			}
			if (nlev == cap) {
				cap = cap ? 2 * cap : 8;
				lev = xreallocarray(lev, (size_t)cap, sizeof *lev);
			}
			lev[nlev].v = v;
			lev[nlev].lab = is_text ? c->meta->cats[(int)v] : NULL;
			lev[nlev].n = 0;
			nlev++;
		}
		lev[k].n++;
	}
	t->n_missing = nmiss;
	t->y = xmallocarray((size_t)(f->nrow ? f->nrow : 1), sizeof *t->y);
	int st = 0;
	if (nlev == 0) {
		st = lm_seterr(err, EX_DATAERR, "target '%s' has no values", column);
		goto fail;
	}
	if (is_text)
		qsort(lev, (size_t)nlev, sizeof *lev, level_cmp_text);
	else
		qsort(lev, (size_t)nlev, sizeof *lev, level_cmp_num);

	if (positive) {
		int pk = -1;
		double pv;
		/* a boolean column holds 0/1 but shows its labels (Yes/No): either names a level */
		int bv = c->meta->type == COL_TYPE_BOOLEAN ? import_bool_value(positive) : -1;
		for (int k = 0; k < nlev; k++) {
			if (is_text ? !strcmp(lev[k].lab, positive)
			    : bv >= 0 ? lev[k].v == bv
				      : (parse_double(positive, &pv) == 0 && pv == lev[k].v))
				pk = k;
		}
		if (pk < 0) {
			/* say which values there are, as lumen info shows them */
			lm_buf vals = {0};
			const store_column *m = c->meta;
			if (m->ncat > 0)
				for (int k = 0; k < m->ncat && k < 10; k++)
					buf_printf(&vals, "%s'%s'", k ? ", " : "", m->cats[k]);
			else
				for (int k = 0; k < nlev && k < 10; k++) {
					char *lab = num_label(lev[k].v);
					buf_printf(&vals, "%s'%s'", k ? ", " : "", lab);
					free(lab);
				}
			st = lm_seterr(err, EX_DATAERR,
				       "no patient has %s = '%s' (the positive class); its values are %s",
				       column, positive, vals.data ? vals.data : "none");
			buf_free(&vals);
			goto fail;
		}
		if (nlev == 1) {
			st = lm_seterr(err, EX_DATAERR,
				       "target '%s' has one class: every patient with a value has %s = '%s'",
				       column, column, positive);
			goto fail;
		}
		t->nclass = 2;
		t->classes = xcalloc(2, sizeof *t->classes);
		t->classes[0] = xasprintf("not %s", positive);
		t->classes[1] = xstrdup(positive);
		for (long r = 0; r < f->nrow; r++) {
			double v = c->v[r];
			t->y[r] = isnan(v) ? NAN : (v == lev[pk].v ? 1.0f : 0.0f);
		}
		free(lev);
		return 0;
	}
	if (nlev == 1) {
		char *lab = is_text ? xstrdup(lev[0].lab) : num_label(lev[0].v);
		st = lm_seterr(err, EX_DATAERR,
			       "target '%s' has one class ('%s' for all %ld patients with a value); "
			       "a model needs two",
			       column, lab, lev[0].n);
		free(lab);
		goto fail;
	}
	/* more than two levels: a class target is text or integer; a real column is a measurement */
	if (nlev > 20 || (nlev > 2 && c->meta->type == COL_TYPE_REAL)) {
		st = lm_seterr(err, EX_DATAERR,
			       "target '%s' has %s%d levels; a class target has 2 to 20 "
			       "(use --positive VALUE for one level against the rest)",
			       column, nlev >= 64 ? "over " : "", nlev);
		goto fail;
	}
	t->nclass = nlev;
	t->classes = xcalloc((size_t)nlev, sizeof *t->classes);
	for (int k = 0; k < nlev; k++)
		t->classes[k] = is_text ? xstrdup(lev[k].lab) : num_label(lev[k].v);
	for (long r = 0; r < f->nrow; r++) {
		double v = c->v[r];
		t->y[r] = NAN;
		if (!isnan(v))
			for (int k = 0; k < nlev; k++)
				if (lev[k].v == v)
					t->y[r] = (float)k;
	}
	free(lev);
	return 0;
fail:
	free(lev);
	enc_target_free(t);
	return st;
}

void enc_target_free(enc_target *t)
{
	for (int k = 0; k < t->nclass; k++)
		free(t->classes[k]);
	free(t->classes);
	free(t->y);
	memset(t, 0, sizeof *t);
}

int enc_folds(const enc_target *t, long n, int k, uint64_t seed, int *fold, lm_err *err)
{
	if (k < 2)
		return lm_seterr(err, EX_DATAERR, "need at least 2 folds, not %d", k);
	size_t *idx = xmallocarray((size_t)(n ? n : 1), sizeof *idx);
	for (long i = 0; i < n; i++)
		fold[i] = -1;
	lm_rng rng;
	rng_seed(&rng, seed);
	long next = 0; /* fold counter carried across classes keeps the fold sizes balanced */
	for (int c = 0; c < t->nclass; c++) {
		size_t m = 0;
		for (long i = 0; i < n; i++)
			if (!isnan(t->y[i]) && (int)t->y[i] == c)
				idx[m++] = (size_t)i;
		if ((long)m < k) {
			free(idx);
			return lm_seterr(err, EX_DATAERR,
					 "class '%s' has %zu patients, fewer than the %d folds", t->classes[c],
					 m, k);
		}
		rng_shuffle(&rng, idx, m);
		for (size_t i = 0; i < m; i++)
			fold[idx[i]] = (int)(next++ % k);
	}
	free(idx);
	return 0;
}
