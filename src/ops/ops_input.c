/* ops_input.c: patients who are not in the workbench (lumen explain --input, lumen validate
 * --input): a CSV with the cohort's columns, read by lumen import into a temporary workbench
 * file (the same parser, types and missing-value markers as the cohort's), checked column by
 * column against the workbench and the model, and encoded with the model's final inputs. The
 * temporary file is gone when ops_input_load returns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../data/encoder.h"
#include "../data/import.h"
#include "../data/visits_enc.h"
#include "ops.h"

/* Imports csv into a workbench file in a fresh temporary directory and loads its patients
 * (types: forced column types, as lumen import --type). */
static int import_once(const char *csv, const char *visits, int seq, const char *id, int row_ids,
		       const import_type_opt *types, int ntypes, frame *f, lm_err *err)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/lumen-input.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		int st = lm_seterr(err, EX_CANTCREAT, "%s: cannot create a temporary directory", dir);
		free(dir);
		return st;
	}
	char *path = xasprintf("%s/input.lumen", dir);
	import_opts o;
	memset(&o, 0, sizeof o);
	o.patients = csv;
	o.out = path;
	o.id = id;
	o.row_ids = row_ids;
	o.no_visits_hint = 1;
	o.visits = visits;
	o.types = types;
	o.ntypes = ntypes;
	import_result res;
	int st = import_run(&o, &res, err);
	if (!st) {
		sqlite3 *db = store_open(path, 1, err);
		st = db ? frame_load(db, "patients", NULL, 0, f, err) : err->status;
		/* a sequence model reads the visits; without a visits file every sequence is
		 * empty */
		if (!st && seq && visits)
			st = venc_attach(db, f, err);
		else if (!st && seq)
			f->visits = xcalloc(1, sizeof *f->visits);
		if (db)
			store_close(db);
	}
	unlink(path);
	char *j = xasprintf("%s-journal", path);
	unlink(j);
	free(j);
	rmdir(dir);
	free(path);
	free(dir);
	return st;
}

static int is_numeric_type(col_type t) { return t != COL_TYPE_TEXT; }

/* Reads csv with the cohort's text columns kept as text. A few rows cannot show a column's
 * type (a sex column holding only "f" reads as a boolean, category codes "1", "2" as
 * integers), so the file is read again with the type text forced on every column the cohort
 * holds as text and the file's inference did not; numeric columns are judged by
 * check_column (its first value that is not a number, or not 0/1 for a boolean). */
static int import_frame(const char *csv, const char *visits, int seq, const char *id, int row_ids,
			const store_columns *wc, frame *f, lm_err *err)
{
	int st = import_once(csv, visits, seq, id, row_ids, NULL, 0, f, err);
	if (st)
		return st;
	import_type_opt *ty = xcalloc((size_t)(f->ncol ? f->ncol : 1), sizeof *ty);
	char **names = xcalloc((size_t)(f->ncol ? f->ncol : 1), sizeof *names);
	int nt = 0;
	for (int j = 0; j < f->ncol; j++) {
		const store_column *nc = &f->cols.c[j];
		int k = store_columns_find(wc, nc->name);
		if (k < 0 || nc->role == COL_ROLE_ID || wc->c[k].role == COL_ROLE_ID ||
		    nc->type == wc->c[k].type)
			continue;
		if (wc->c[k].type != COL_TYPE_TEXT)
			continue; /* numbers stay numbers; check_column judges them */
		names[nt] = xstrdup(nc->name);
		ty[nt].column = names[nt];
		ty[nt++].type = wc->c[k].type;
	}
	if (nt) {
		frame_free(f);
		memset(f, 0, sizeof *f);
		st = import_once(csv, visits, seq, id, row_ids, ty, nt, f, err);
	}
	for (int k = 0; k < nt; k++)
		free(names[k]);
	free(names);
	free(ty);
	return st;
}

/* One column of the new file against the workbench's column of the same name: a number
 * where the cohort has numbers, a category the cohort has where it has categories. */
static int check_column(const frame *f, int j, const store_column *wc, int is_input,
			const char *csv, lm_err *err)
{
	const store_column *nc = &f->cols.c[j];
	char buf[256];
	for (long r = 0; r < f->nrow; r++) {
		const char *s = frame_cell_text(f, j, r, buf, sizeof buf);
		if (!*s)
			continue; /* missing: allowed wherever the cohort allows it (imputed) */
		if (is_numeric_type(wc->type)) {
			double d = f->col[j].v[r];
			if (nc->type == COL_TYPE_TEXT && parse_double(s, &d) != 0)
				return lm_seterr(err, EX_DATAERR,
						 "%s:%ld:%d: column '%s': '%s' is not a number (the "
						 "cohort's column is %s)", csv, r + 2, nc->position,
						 nc->name, s, store_type_name(wc->type));
			if (wc->type == COL_TYPE_BOOLEAN && d != 0 && d != 1)
				return lm_seterr(err, EX_DATAERR,
						 "%s:%ld:%d: column '%s': '%s' is not 0 or 1 (the "
						 "cohort's column is boolean)", csv, r + 2, nc->position,
						 nc->name, s);
		} else if (is_input && wc->ncat > 0) {
			int k = 0;
			while (k < wc->ncat && strcmp(wc->cats[k], s))
				k++;
			if (k == wc->ncat) {
				lm_buf b = {0};
				for (int q = 0; q < wc->ncat && q < 12; q++)
					buf_printf(&b, "%s%s", q ? ", " : "", wc->cats[q]);
				if (wc->ncat > 12)
					buf_puts(&b, ", ...");
				lm_seterr(err, EX_DATAERR,
					  "%s:%ld:%d: column '%s': '%s' is not a category of the cohort "
					  "(%s)", csv, r + 2, nc->position, nc->name, s,
					  b.data ? b.data : "none");
				buf_free(&b);
				return EX_DATAERR;
			}
		}
	}
	return 0;
}

int ops_input_load(sqlite3 *db, const model *m, const char *csv, const char *visits,
		   const char *id, int row_ids, ops_input *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	out->idcol = -1;
	out->csv = xstrdup(csv);
	store_columns wc;
	int st = store_columns_load(db, "patients", &wc, err);
	if (st) {
		ops_input_free(out);
		return st;
	}
	frame *f = &out->f;
	int S, K, F, seq = venc_geometry(&m->spec, &S, &K, &F);
	int nstatic = venc_static_columns(&m->spec); /* the visit slots come from the visits */
	st = import_frame(csv, visits, seq, id, row_ids, &wc, f, err);
	for (int j = 0; !st && j < f->ncol; j++)
		if (f->cols.c[j].role == COL_ROLE_ID)
			out->idcol = j;
	/* every model input, by name (the header is line 1) */
	for (int t = 0; !st && t < nstatic; t++)
		if (frame_find(f, m->spec.columns[t]) < 0)
			st = lm_seterr(err, EX_DATAERR, "%s:1: no column '%s' (model '%s' needs it)",
				       csv, m->spec.columns[t], m->name);
	/* no column the cohort does not have: a misspelt or shifted header is an error, not a
	 * silently ignored input */
	for (int j = 0; !st && j < f->ncol; j++) {
		const store_column *nc = &f->cols.c[j];
		int k = store_columns_find(&wc, nc->name);
		if (k < 0) {
			if (j == out->idcol)
				continue;
			st = lm_seterr(err, EX_DATAERR,
				       "%s:1:%d: column '%s' is not a column of the cohort (check the "
				       "header)", csv, nc->position, nc->name);
			break;
		}
		int is_input = 0;
		for (int t = 0; t < nstatic; t++)
			is_input |= !strcmp(m->spec.columns[t], nc->name);
		if (j != out->idcol && wc.c[k].role != COL_ROLE_ID)
			st = check_column(f, j, &wc.c[k], is_input, csv, err);
	}
	store_columns_free(&wc);
	if (!st) {
		long n = f->nrow;
		int ns = m->spec.nslot;
		out->n = n;
		out->id = xcalloc((size_t)(n ? n : 1), sizeof *out->id);
		char buf[256];
		for (long i = 0; i < n; i++)
			out->id[i] = out->idcol >= 0
					     ? xstrdup(frame_cell_text(f, out->idcol, i, buf, sizeof buf))
					     : xasprintf("%ld", f->rowid[i]);
		long *rows = xmallocarray((size_t)(n ? n : 1), sizeof *rows);
		for (long i = 0; i < n; i++)
			rows[i] = i;
		out->X = xmallocarray((size_t)(n ? n : 1) * (size_t)(ns ? ns : 1), sizeof *out->X);
		st = enc_encode(&m->spec, f, rows, n, out->X, err);
		free(rows);
	}
	if (st)
		ops_input_free(out);
	return st;
}

long ops_input_find(const ops_input *in, const char *id)
{
	for (long i = 0; i < in->n; i++)
		if (!strcmp(in->id[i], id))
			return i;
	return -1;
}

void ops_input_free(ops_input *in)
{
	if (!in)
		return;
	for (long i = 0; in->id && i < in->n; i++)
		free(in->id[i]);
	free(in->id);
	free(in->X);
	free(in->csv);
	frame_free(&in->f);
	memset(in, 0, sizeof *in);
	in->idcol = -1;
}
