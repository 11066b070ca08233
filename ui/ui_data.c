/* ui_data.c: the cohort as the TUI sees it, read lazily so that a file with a million
 * patients opens at once. Opening reads only the column metadata, the row count
 * (max(rowid): patients' rowids are 1..n) and the model list; a frame shows only the rows on
 * screen, each fetched by rowid with two prepared statements (the row, its prediction).
 * Sorting and filtering load just the one column they need (frame_load with one name, or the
 * model's p from `predictions`) and permute an index of rowids, never the rows. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/ops/ops.h"
#include "../src/data/labels.h"
#include "ui_impl.h"

#define CACHE_N 256

static void col_free(ui_col *k)
{
	free(k->name);
	free(k->label);
	free(k->all);
	/* meta strings are owned by the copy made in add_col */
	if (k->meta.name)
		store_column_free(&k->meta);
}

static void cache_clear(ui_view *c)
{
	for (int i = 0; i < c->ncache; i++) {
		ui_row *r = &c->cache[i];
		if (r->cell)
			for (int j = 0; j < c->ncol; j++)
				free(r->cell[j]);
		free(r->cell);
		memset(r, 0, sizeof *r);
	}
}

void ui_view_flush(ui_view *c) { cache_clear(c); }

static void add_col(ui_view *c, const char *name, const store_column *m, int is_p, int is_pred,
		    int is_true)
{
	c->col = xreallocarray(c->col, (size_t)c->ncol + 1, sizeof *c->col);
	ui_col *k = &c->col[c->ncol++];
	memset(k, 0, sizeof *k);
	k->name = xstrdup(name);
	k->is_p = is_p, k->is_pred = is_pred, k->is_true = is_true;
	int vw = 0; /* the widest value label (labels.h) */
	if (m) {
		k->label = xstrdup(lbl_name(m));
		k->type = m->type;
		k->role = m->role;
		store_column_copy(&k->meta, m);
		for (int j = 0; j < m->nvl; j++) {
			int l = (int)strlen(m->vl[j].text);
			vw = l > vw ? l : vw;
		}
		if (m->type == COL_TYPE_BOOLEAN && vw < 3)
			vw = 3; /* yes / no */
		if (m->missing > 0 && vw < 7)
			vw = 7; /* "missing" */
	} else {
		k->label = xstrdup(name);
		k->type = COL_TYPE_REAL;
		k->role = COL_ROLE_TARGET;
	}
	int w = ui_text_width(k->label);
	if (vw > w)
		w = vw;
	k->width = is_p ? 13 : (is_pred || is_true) ? 4 : w < 6 ? 6 : w > 15 ? 15 : w;
}

static int load_models(ui_view *c, const char *want, lm_err *err)
{
	if (!store_has_table(c->db, "predictions"))
		return 0;
	ops_models all;
	int s = ops_models_load(c->db, NULL, &all, err);
	for (int i = 0; !s && i < all.n; i++) {
		if (!all.m[i].has_predictions)
			continue;
		c->models = xreallocarray(c->models, (size_t)c->nmodel + 1, sizeof *c->models);
		c->model_ids = xreallocarray(c->model_ids, (size_t)c->nmodel + 1, sizeof(long));
		c->model_ids[c->nmodel] = all.m[i].id;
		c->models[c->nmodel++] = xstrdup(all.m[i].name ? all.m[i].name : "");
	}
	ops_models_free(&all);
	if (s)
		return s;
	c->cur_model = c->nmodel - 1; /* the newest */
	if (want) {
		int k = -1;
		for (int i = 0; i < c->nmodel; i++)
			if (!strcmp(c->models[i], want))
				k = i;
		if (k < 0)
			return lm_seterr(err, EX_DATAERR,
					 "no model '%s' with predictions; lumen models %s lists them", want,
					 "FILE");
		c->cur_model = k;
	}
	return 0;
}

static int prepare_row(ui_view *c, lm_err *err)
{
	lm_buf sql = {0};
	if (c->id_col) {
		char *q = sqlite3_mprintf("SELECT \"%w\"", c->id_col);
		buf_puts(&sql, q);
		sqlite3_free(q);
	} else {
		buf_puts(&sql, "SELECT rowid");
	}
	for (int i = 0; i < c->ncol; i++) {
		if (c->col[i].is_p || c->col[i].is_pred || c->col[i].is_true) {
			buf_puts(&sql, ", NULL");
			continue;
		}
		char *q = sqlite3_mprintf(", \"%w\"", c->col[i].name);
		buf_puts(&sql, q);
		sqlite3_free(q);
	}
	buf_puts(&sql, " FROM patients WHERE rowid = ?");
	c->row_st = store_prepare(c->db, sql.data, err);
	buf_free(&sql);
	if (!c->row_st)
		return err->status;
	return 0;
}

int ui_view_open(ui_view *c, sqlite3 *db, const char *want_model, const char *columns,
		   lm_err *err)
{
	memset(c, 0, sizeof *c);
	c->db = db;
	c->sort_col = -1;
	c->model_id = -1;
	if (!store_has_table(db, "patients"))
		return lm_seterr(err, EX_DATAERR, "the workbench file has no patients");
	sqlite3_stmt *st = store_prepare(db, "SELECT max(rowid) FROM patients", err);
	if (!st)
		return err->status;
	c->n = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);

	store_columns cols;
	int s = store_columns_load(db, "patients", &cols, err);
	if (s)
		return s;
	int idc = store_columns_role(&cols, COL_ROLE_ID);
	if (idc >= 0)
		c->id_col = xstrdup(cols.c[idc].name);
	if ((s = load_models(c, want_model, err))) {
		store_columns_free(&cols);
		return s;
	}
	if (c->nmodel > 0) {
		add_col(c, "p", NULL, 1, 0, 0);
		add_col(c, "pred", NULL, 0, 1, 0);
		add_col(c, "true", NULL, 0, 0, 1);
	}
	if (columns && *columns) {
		char *list = xstrdup(columns), *save = NULL;
		for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			int k = store_columns_find(&cols, t);
			if (k < 0) {
				lm_seterr(err, EX_USAGE, "no column '%s' in patients", t);
				free(list);
				store_columns_free(&cols);
				return EX_USAGE;
			}
			add_col(c, t, &cols.c[k], 0, 0, 0);
		}
		free(list);
	} else {
		/* groups and treatment first (the demographics a clinician scans), then the
		 * features in file order; the screen shows as many as fit */
		static const col_role order[] = {COL_ROLE_GROUP, COL_ROLE_TREATMENT, COL_ROLE_FEATURE};
		for (size_t r = 0; r < LM_ARRAY_LEN(order); r++)
			for (int i = 0; i < cols.n; i++)
				if (cols.c[i].role == order[r])
					add_col(c, cols.c[i].name, &cols.c[i], 0, 0, 0);
	}
	store_columns_free(&cols);
	c->cache = xcalloc(CACHE_N, sizeof *c->cache);
	c->ncache = CACHE_N;
	if (c->nmodel > 0 && (s = ui_view_set_model(c, c->cur_model, err)))
		return s;
	return prepare_row(c, err);
}

void ui_view_close(ui_view *c)
{
	if (c->cache)
		cache_clear(c);
	free(c->cache);
	for (int i = 0; i < c->ncol; i++)
		col_free(&c->col[i]);
	free(c->col);
	for (int i = 0; i < c->nmodel; i++)
		free(c->models[i]);
	free(c->models);
	free(c->model_ids);
	free(c->id_col);
	free(c->view);
	free(c->p_all);
	sqlite3_finalize(c->row_st);
	memset(c, 0, sizeof *c);
}

long ui_view_count(const ui_view *c) { return c->view ? c->nview : c->n; }

long ui_view_rowid(const ui_view *c, long pos)
{
	if (pos < 0 || pos >= ui_view_count(c))
		return 0;
	return c->view ? c->view[pos] : pos + 1;
}

long ui_view_pos(const ui_view *c, long rowid)
{
	if (!c->view)
		return rowid >= 1 && rowid <= c->n ? rowid - 1 : -1;
	for (long i = 0; i < c->nview; i++)
		if (c->view[i] == rowid)
			return i;
	return -1;
}

static void fmt_value(char *buf, size_t len, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		buf[0] = 0;
		break;
	case SQLITE_INTEGER:
		snprintf(buf, len, "%lld", (long long)sqlite3_column_int64(st, i));
		break;
	case SQLITE_FLOAT:
		snprintf(buf, len, "%.4g", sqlite3_column_double(st, i));
		break;
	default:
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, i));
	}
}

const ui_row *ui_view_row(ui_view *c, long rowid)
{
	ui_row *r = &c->cache[rowid % CACHE_N];
	if (r->rowid == rowid && r->cell)
		return r;
	if (r->cell)
		for (int j = 0; j < c->ncol; j++)
			free(r->cell[j]);
	free(r->cell);
	memset(r, 0, sizeof *r);
	r->rowid = rowid;
	r->p = r->p_sd = NAN;
	r->y = -1;
	r->fold = -1;
	r->cell = xcalloc((size_t)(c->ncol ? c->ncol : 1), sizeof *r->cell);
	sqlite3_bind_int64(c->row_st, 1, rowid);
	char buf[256];
	if (sqlite3_step(c->row_st) == SQLITE_ROW) {
		fmt_value(r->id, sizeof r->id, c->row_st, 0);
		for (int j = 0; j < c->ncol; j++) {
			const ui_col *k = &c->col[j];
			if (k->meta.name) {
				/* in words: value labels, "missing", a clinician's digits (labels.h) */
				sqlite3_stmt *st = c->row_st;
				int null = sqlite3_column_type(st, j + 1) == SQLITE_NULL;
				const char *tv = k->type == COL_TYPE_TEXT && !null
							 ? (const char *)sqlite3_column_text(st, j + 1) : NULL;
				double num = k->type == COL_TYPE_TEXT || null ? (double)NAN
									       : sqlite3_column_double(st, j + 1);
				lbl_text(&k->meta, num, tv, buf, sizeof buf);
			} else {
				fmt_value(buf, sizeof buf, c->row_st, j + 1);
			}
			r->cell[j] = xstrdup(buf);
		}
	} else {
		for (int j = 0; j < c->ncol; j++)
			r->cell[j] = xstrdup("");
	}
	sqlite3_reset(c->row_st);
	if (c->model_id >= 0) {
		int fold;
		double y, p, sd;
		if (ops_prediction_one(c->db, c->model_id, rowid, &fold, &y, &p, &sd, NULL, NULL) == 0) {
			r->p = p, r->p_sd = sd, r->fold = fold;
			r->y = isnan(y) ? -1 : (int)y;
		}
	}
	return r;
}

int ui_view_set_model(ui_view *c, int k, lm_err *err)
{
	(void)err;
	if (k < 0 || k >= c->nmodel)
		return 0;
	c->cur_model = k;
	c->model_id = c->model_ids[k];
	c->model_name = c->models[k];
	free(c->p_all);
	c->p_all = NULL;
	for (int i = 0; i < c->ncol; i++)
		if (c->col[i].is_p || c->col[i].is_pred || c->col[i].is_true) {
			free(c->col[i].all);
			c->col[i].all = NULL;
		}
	if (c->cache)
		cache_clear(c);
	return 0;
}

/* Loads every value of column k by rowid-1: the model's outputs from `predictions`, any other
 * column through frame_load (text as the category's alphabetical rank, so sorting by it
 * sorts by label). */
static int load_all(ui_view *c, int k, lm_err *err)
{
	ui_col *col = &c->col[k];
	if (col->all)
		return 0;
	size_t n = (size_t)(c->n ? c->n : 1);
	double *all = xmallocarray(n, sizeof *all);
	for (size_t i = 0; i < n; i++)
		all[i] = NAN;
	if (col->is_p || col->is_pred || col->is_true) {
		ops_predictions pr;
		if (ops_predictions_load_id(c->db, c->model_id, &pr, err)) {
			ops_predictions_free(&pr);
			free(all);
			return err->status;
		}
		for (long i = 0; i < pr.n; i++) {
			long r = pr.rowid[i];
			double v = col->is_true ? pr.y[i] : pr.p[i];
			if (r < 1 || r > c->n || isnan(v))
				continue;
			all[r - 1] = col->is_pred ? (v >= 0.5) : v;
		}
		ops_predictions_free(&pr);
	} else {
		frame f;
		const char *name = col->name;
		int s = frame_load(c->db, "patients", &name, 1, &f, err);
		if (s) {
			free(all);
			return s;
		}
		int *rank = NULL;
		const store_column *m = f.col[0].meta;
		if (m->type == COL_TYPE_TEXT && m->ncat > 0) {
			rank = xcalloc((size_t)m->ncat, sizeof *rank);
			for (int i = 0; i < m->ncat; i++)
				for (int j = 0; j < m->ncat; j++)
					if (strcmp(m->cats[j], m->cats[i]) < 0)
						rank[i]++;
		}
		for (long i = 0; i < f.nrow; i++) {
			long r = f.rowid[i];
			if (r < 1 || r > c->n)
				continue;
			double v = f.col[0].v[i];
			all[r - 1] = rank && !isnan(v) ? rank[(int)v] : v;
		}
		free(rank);
		frame_free(&f);
	}
	col->all = all;
	return 0;
}

/* Sorting moves (key, rowid) pairs, so the comparison reads contiguous memory rather than
 * the key array at random rowids. Missing values last in either direction; ties by rowid. */
typedef struct sort_pair {
	double k;
	long r;
} sort_pair;

static int cmp_asc(const void *pa, const void *pb)
{
	const sort_pair *a = pa, *b = pb;
	int an = isnan(a->k), bn = isnan(b->k);
	if (an || bn) {
		if (an != bn)
			return an - bn;
	} else if (a->k != b->k) {
		return (a->k > b->k) - (a->k < b->k);
	}
	return (a->r > b->r) - (a->r < b->r);
}

static int cmp_desc(const void *pa, const void *pb)
{
	const sort_pair *a = pa, *b = pb;
	int an = isnan(a->k), bn = isnan(b->k);
	if (an || bn) {
		if (an != bn)
			return an - bn;
	} else if (a->k != b->k) {
		return (a->k < b->k) - (a->k > b->k);
	}
	return (a->r > b->r) - (a->r < b->r);
}

static void ensure_view(ui_view *c)
{
	if (c->view)
		return;
	c->view = xmallocarray((size_t)(c->n ? c->n : 1), sizeof *c->view);
	for (long i = 0; i < c->n; i++)
		c->view[i] = i + 1;
	c->nview = c->n;
}

int ui_view_sort(ui_view *c, int k, int desc, lm_err *err)
{
	if (k < 0 || k >= c->ncol)
		return 0;
	int s = load_all(c, k, err);
	if (s)
		return s;
	ensure_view(c);
	const double *key = c->col[k].all;
	sort_pair *pr = xmallocarray((size_t)(c->nview ? c->nview : 1), sizeof *pr);
	for (long i = 0; i < c->nview; i++)
		pr[i].r = c->view[i], pr[i].k = key[c->view[i] - 1];
	qsort(pr, (size_t)c->nview, sizeof *pr, desc ? cmp_desc : cmp_asc);
	for (long i = 0; i < c->nview; i++)
		c->view[i] = pr[i].r;
	free(pr);
	c->sort_col = k;
	c->sort_desc = desc;
	return 0;
}

/* The filter prompt speaks the filter language of `lumen query --where` and lumen.patients
 * (ops_filter): one compiled expression over the patients, `risk`, `label` and `outcome`
 * meaning the shown model's stored predictions. "" clears. */
int ui_view_filter(ui_view *c, const char *expr, lm_err *err)
{
	while (*expr == ' ')
		expr++;
	if (!*expr) {
		free(c->view);
		c->view = NULL;
		c->nview = 0;
		c->filter[0] = 0;
		if (c->sort_col >= 0)
			return ui_view_sort(c, c->sort_col, c->sort_desc, err);
		return 0;
	}
	ops_filter *f = ops_filter_compile(c->db, expr, c->model_id >= 0 ? c->model_name : NULL, err);
	if (!f)
		return err->status ? err->status : EX_DATAERR;
	ops_selection sel;
	int st = ops_filter_run(f, c->db, &sel, err);
	ops_filter_free(f);
	if (st) {
		ops_selection_free(&sel);
		return st;
	}
	long *v = xmallocarray((size_t)(sel.n ? sel.n : 1), sizeof *v);
	for (long i = 0; i < sel.n; i++)
		v[i] = sel.rowid[sel.rows[i]];
	long n = sel.n;
	ops_selection_free(&sel);
	free(c->view);
	c->view = v;
	c->nview = n;
	snprintf(c->filter, sizeof c->filter, "%.250s", expr);
	if (c->sort_col >= 0)
		return ui_view_sort(c, c->sort_col, c->sort_desc, err);
	return 0;
}

/* Marks in hit[] the rowids whose id (ids = 1) or shown cells (ids = 0) equal text. */
static int search_hits(ui_view *c, const char *text, int ids, char *hit)
{
	lm_buf sql = {0};
	buf_puts(&sql, "SELECT rowid FROM patients WHERE 0");
	char *q;
	if (ids) {
		q = c->id_col ? sqlite3_mprintf(" OR \"%w\" = ?1", c->id_col) : sqlite3_mprintf(" OR rowid = ?1");
		buf_puts(&sql, q);
		sqlite3_free(q);
	} else {
		for (int i = 0; i < c->ncol; i++) {
			if (c->col[i].is_p || c->col[i].is_pred || c->col[i].is_true)
				continue;
			q = sqlite3_mprintf(" OR \"%w\" = ?1", c->col[i].name);
			buf_puts(&sql, q);
			sqlite3_free(q);
		}
	}
	sqlite3_stmt *st = store_prepare(c->db, sql.data, NULL);
	buf_free(&sql);
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	int any = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		long r = (long)sqlite3_column_int64(st, 0);
		if (r >= 1 && r <= c->n)
			hit[r] = 1, any = 1;
	}
	sqlite3_finalize(st);
	return any;
}

long ui_view_search(ui_view *c, const char *text, long from, int dir)
{
	long n = ui_view_count(c);
	if (n == 0 || !*text)
		return -1;
	/* an id match wins; otherwise any shown column holding the value. SQL finds the
	 * matching rowids, then the first of them after `from` in the current order */
	char *hit = xcalloc((size_t)c->n + 1, 1);
	int any = search_hits(c, text, 1, hit) || search_hits(c, text, 0, hit);
	long found = -1;
	if (any)
		for (long k = 0; k < n; k++) {
			long pos = ((from + dir * k) % n + n) % n;
			if (hit[ui_view_rowid(c, pos)]) {
				found = pos;
				break;
			}
		}
	free(hit);
	return found;
}

