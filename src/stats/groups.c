/* groups.c: patient groups from columns (see groups.h). */
#include "groups.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One grouping column: each row's level (-1 missing) and the level labels. */
typedef struct gcol {
	int nlev;
	char **lab;
	int *lev;
} gcol;

static void gcol_free(gcol *c)
{
	for (int i = 0; i < c->nlev; i++)
		free(c->lab[i]);
	free(c->lab);
	free(c->lev);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* "%.15g" without trailing noise */
static char *num_text(double v)
{
	return xasprintf("%.15g", v);
}

static const char *find_bins(const char *name, char *const *bins, int nbins)
{
	size_t len = strlen(name);
	for (int i = 0; i < nbins; i++)
		if (!strncmp(bins[i], name, len) && bins[i][len] == '=')
			return bins[i] + len + 1;
	return NULL;
}

static int col_binned(const frame *f, int ci, const char *cuts_s, gcol *g, lm_err *err)
{
	const char *name = f->col[ci].meta->name;
	double cuts[64];
	int nc = 0;
	char *copy = xstrdup(cuts_s), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (nc == 64 || parse_double(tok, &cuts[nc]) != 0 || !isfinite(cuts[nc]) ||
		    (nc > 0 && cuts[nc] <= cuts[nc - 1])) {
			free(copy);
			return lm_seterr(err, EX_DATAERR,
					 "--bins %s=%s: cut points must be increasing numbers", name,
					 cuts_s);
		}
		nc++;
	}
	free(copy);
	if (nc == 0)
		return lm_seterr(err, EX_DATAERR, "--bins %s: no cut points", name);
	g->nlev = nc + 1;
	g->lab = xcalloc((size_t)nc + 1, sizeof *g->lab);
	for (int b = 0; b <= nc; b++) {
		char *lo = b > 0 ? num_text(cuts[b - 1]) : NULL, *hi = b < nc ? num_text(cuts[b]) : NULL;
		if (b == 0)
			g->lab[b] = xasprintf("%s<%s", name, hi);
		else if (b == nc)
			g->lab[b] = xasprintf("%s>=%s", name, lo);
		else
			g->lab[b] = xasprintf("%s %s-%s", name, lo, hi);
		free(lo);
		free(hi);
	}
	for (long r = 0; r < f->nrow; r++) {
		double v = f->col[ci].v[r];
		if (isnan(v)) {
			g->lev[r] = -1;
			continue;
		}
		int b = 0;
		while (b < nc && v >= cuts[b])
			b++;
		g->lev[r] = b;
	}
	return 0;
}

static int col_levels(const frame *f, int ci, gcol *g, lm_err *err)
{
	const store_column *m = f->col[ci].meta;
	const double *v = f->col[ci].v;
	if (m->type == COL_TYPE_TEXT && f->col[ci].str)
		return lm_seterr(err, EX_DATAERR, "%s is free text (%ld values); it cannot group",
				 m->name, m->distinct);
	/* the distinct non-missing values, sorted (category indices for text) */
	double *d = xmallocarray(f->nrow > 0 ? (size_t)f->nrow : 1, sizeof *d);
	long nd = 0;
	for (long r = 0; r < f->nrow; r++)
		if (!isnan(v[r]))
			d[nd++] = v[r];
	qsort(d, (size_t)nd, sizeof *d, cmp_double);
	long k = 0;
	for (long i = 0; i < nd; i++)
		if (k == 0 || d[i] != d[k - 1])
			d[k++] = d[i];
	if (k > GROUPS_MAX_LEVELS) {
		free(d);
		return lm_seterr(err, EX_DATAERR,
				 "%s has %ld distinct values; bin it with --bins %s=CUT,CUT,...", m->name,
				 k, m->name);
	}
	g->nlev = (int)k;
	g->lab = xcalloc((size_t)(k ? k : 1), sizeof *g->lab);
	for (long i = 0; i < k; i++) {
		int cat = (int)d[i];
		if (m->type == COL_TYPE_TEXT && cat >= 0 && cat < m->ncat)
			g->lab[i] = xasprintf("%s=%s", m->name, m->cats[cat]);
		else
			g->lab[i] = xasprintf("%s=%.15g", m->name, d[i]);
	}
	for (long r = 0; r < f->nrow; r++) {
		g->lev[r] = -1;
		if (isnan(v[r]))
			continue;
		double *hit = bsearch(&v[r], d, (size_t)k, sizeof *d, cmp_double);
		g->lev[r] = (int)(hit - d);
	}
	if (k == 1) {
		char *only = xstrdup(strchr(g->lab[0], '=') + 1);
		free(d);
		lm_seterr(err, EX_DATAERR, "%s has one level (%s); nothing to compare", m->name, only);
		free(only);
		return EX_DATAERR;
	}
	if (k == 0) {
		free(d);
		return lm_seterr(err, EX_DATAERR, "%s has no values", m->name);
	}
	free(d);
	return 0;
}

int groups_build(const frame *f, const char *spec, char *const *bins, int nbins, groups *out,
		 lm_err *err)
{
	memset(out, 0, sizeof *out);
	char *copy = xstrdup(spec), *save = NULL;
	gcol cols[8];
	int nc = 0, st = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (nc == 8) {
			st = lm_seterr(err, EX_USAGE, "--by: at most 8 columns");
			break;
		}
		int ci = frame_find(f, tok);
		if (ci < 0) {
			st = lm_seterr(err, EX_DATAERR, "no column named '%s'", tok);
			break;
		}
		gcol *g = &cols[nc++];
		memset(g, 0, sizeof *g);
		g->lev = xmallocarray(f->nrow > 0 ? (size_t)f->nrow : 1, sizeof *g->lev);
		const char *cuts = find_bins(tok, bins, nbins);
		st = cuts ? col_binned(f, ci, cuts, g, err) : col_levels(f, ci, g, err);
		if (st)
			break;
	}
	free(copy);
	if (!st && nc == 0)
		st = lm_seterr(err, EX_USAGE, "--by: no column");
	if (st) {
		for (int i = 0; i < nc; i++)
			gcol_free(&cols[i]);
		return st;
	}
	/* combinations in mixed radix, the first column most significant */
	long ncomb = 1;
	for (int i = 0; i < nc; i++)
		ncomb *= cols[i].nlev;
	long *comb_n = xcalloc((size_t)ncomb, sizeof *comb_n);
	long *code = xmallocarray(f->nrow > 0 ? (size_t)f->nrow : 1, sizeof *code);
	for (long r = 0; r < f->nrow; r++) {
		long c = 0;
		for (int i = 0; i < nc && c >= 0; i++)
			c = cols[i].lev[r] < 0 ? -1 : c * cols[i].nlev + cols[i].lev[r];
		code[r] = c;
		if (c >= 0)
			comb_n[c]++;
		else
			out->missing++;
	}
	int *gid = xmallocarray((size_t)ncomb, sizeof *gid);
	out->label = xcalloc((size_t)ncomb, sizeof *out->label);
	out->size = xcalloc((size_t)ncomb, sizeof *out->size);
	for (long c = 0; c < ncomb; c++) {
		gid[c] = -1;
		if (comb_n[c] == 0) {
			out->empty++;
			continue;
		}
		lm_buf b = {0};
		long rest = c, div = ncomb;
		for (int i = 0; i < nc; i++) {
			div /= cols[i].nlev;
			int lev = (int)(rest / div);
			rest %= div;
			if (i)
				buf_puts(&b, ",");
			buf_puts(&b, cols[i].lab[lev]);
		}
		gid[c] = out->n;
		out->label[out->n] = b.data;
		out->size[out->n++] = comb_n[c];
	}
	out->nrow = f->nrow;
	out->of = xmallocarray(f->nrow > 0 ? (size_t)f->nrow : 1, sizeof *out->of);
	for (long r = 0; r < f->nrow; r++)
		out->of[r] = code[r] < 0 ? -1 : gid[code[r]];
	out->ncols = nc;
	out->levels = xmallocarray((size_t)nc, sizeof *out->levels);
	for (int i = 0; i < nc; i++) {
		out->levels[i] = cols[i].nlev;
		gcol_free(&cols[i]);
	}
	free(comb_n);
	free(code);
	free(gid);
	return 0;
}

void groups_free(groups *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->label[i]);
	free(g->label);
	free(g->size);
	free(g->of);
	free(g->levels);
	memset(g, 0, sizeof *g);
}

int groups_find(const groups *g, const char *label)
{
	for (int i = 0; i < g->n; i++)
		if (!strcmp(g->label[i], label))
			return i;
	return -1;
}
