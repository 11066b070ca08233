/* cmd_predict.c: `lumen predict` — scores the cohort of a workbench file, or the patients of a
 * new CSV with the same columns, with a stored model's final network.
 *
 * A new CSV goes through `lumen import` into a temporary workbench file (the same parser,
 * types and missing-value markers as the cohort), which is then encoded by column name and
 * category label with the model's inputs; the temporary file is removed afterwards. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../data/encoder.h"
#include "../data/import.h"
#include "../data/visits_enc.h"
#include "../nn/coxmodel.h"
#include "../nn/model.h"
#include "../ops/ops.h"
#include "cli.h"
#include "predict_cox.h"
#include "predict_effect.h"

#define CMD "predict"

static const char usage[] =
	"Usage: lumen predict FILE --model NAME [--input NEW.csv] [--csv OUT.csv] [--json]\n"
	"Scores every patient of FILE (or of NEW.csv) with the model's final network.\n"
	"  --model NAME    the model (lumen models FILE lists them)\n"
	"  --input NEW.csv patients to score instead of FILE's cohort; same column names\n"
	"  --input-visits V.csv  the visits of NEW.csv's patients (gru, cnn, cnn-gru models;\n"
	"                  the same columns as FILE's visits; none: every sequence is empty)\n"
	"  --id COL        NEW.csv's patient id column (default: found by name as lumen import\n"
	"                  does; with none, the rows are numbered 1..n)\n"
	"  --row-ids       number NEW.csv's rows 1..n as the patient id\n"
	"  --csv OUT.csv   write the CSV there instead of standard output\n"
	"  --json          one JSON array on standard output\n"
	"  --times a,b     Cox model: survival S(t) at these times (default: the model's\n"
	"                  evaluation times)\n"
	"Columns: id, p (probability of the positive class, or of each class), logit, and for\n"
	"the cohort the stored out-of-fold p and fold. A Cox model gives id, lp (log relative\n"
	"hazard), S_t per time, and for the cohort oof_lp, fold and oof_S_t (the fold's model\n"
	"and baseline hazard). A treatment-effect model (lumen train --effect) gives id, p_ARM\n"
	"(the risk under each arm), effect_ARM (p_ARM - p_REFERENCE), and for the cohort fold and\n"
	"effect_sd_ARM: out of fold for the patients it was trained on, else the final networks.\n";

typedef struct scored {
	long n;
	int W;        /* probabilities per patient: 1 (binary) or C */
	float *p;     /* n x W */
	float *logit; /* n: logit of the positive class (binary) or of the most likely class */
	char **id;    /* n labels */
	double *oof;  /* n out-of-fold p (NAN when none); NULL for a new CSV */
	int *fold;
} scored;

/* A numeric model input that the new file holds as text: name the first value that is
 * not a number, with its CSV line (row r is line r + 2: the header is line 1). */
static int check_types(const model *m, const frame *f, const char *csv, lm_err *err)
{
	for (int t = 0; t < venc_static_columns(&m->spec); t++) {
		int j = frame_find(f, m->spec.columns[t]);
		if (j < 0)
			return lm_seterr(err, EX_DATAERR, "%s: no column '%s' (model '%s' needs it)", csv,
					 m->spec.columns[t], m->name);
		if (m->spec.column_type[t] == COL_TYPE_TEXT || f->cols.c[j].type != COL_TYPE_TEXT)
			continue;
		char buf[256];
		for (long r = 0; r < f->nrow; r++) {
			const char *s = frame_cell_text(f, j, r, buf, sizeof buf);
			double d;
			if (*s && parse_double(s, &d) != 0)
				return lm_seterr(err, EX_DATAERR,
						 "%s:%ld:%d: column '%s': '%s' is not a number", csv, r + 2,
						 f->cols.c[j].position, m->spec.columns[t], s);
		}
	}
	return 0;
}

/* Scores frame f (every row) with the final model. */
static int score_frame(model *m, const frame *f, int idcol, scored *out, lm_err *err)
{
	long n = f->nrow;
	int ns = m->spec.nslot, C = m->nclass == 2 ? 1 : m->nclass;
	out->n = n;
	out->W = C;
	long *rows = xmallocarray((size_t)(n ? n : 1), sizeof *rows);
	for (long i = 0; i < n; i++)
		rows[i] = i;
	float *X = xmallocarray((size_t)(n ? n : 1) * (size_t)ns, sizeof *X);
	int st = enc_encode(&m->spec, f, rows, n, X, err);
	free(rows);
	if (st) {
		free(X);
		return st;
	}
	out->p = xmallocarray((size_t)(n ? n : 1) * (size_t)C, sizeof *out->p);
	out->logit = xmallocarray((size_t)(n ? n : 1), sizeof *out->logit);
	out->id = xcalloc((size_t)(n ? n : 1), sizeof *out->id);
	float *tmp = xmallocarray((size_t)(n ? n : 1), sizeof *tmp);
	/* in chunks of 1024 rows: model_predict runs one forward pass over what it is given */
	for (int c = 0; c < C; c++) {
		for (long i = 0; i < n; i += 1024) {
			int k = (int)(n - i < 1024 ? n - i : 1024);
			model_predict(m, X + (size_t)i * (size_t)ns, k, C == 1 ? 1 : c, tmp + i,
				      C == 1 ? out->logit + i : NULL);
		}
		for (long i = 0; i < n; i++)
			out->p[(size_t)i * (size_t)C + (size_t)c] = tmp[i];
	}
	/* multi-class: the logit of the most likely class */
	for (long i = 0; C > 1 && i < n; i++) {
		int best = 0;
		for (int c = 1; c < C; c++)
			if (out->p[(size_t)i * (size_t)C + (size_t)c] >
			    out->p[(size_t)i * (size_t)C + (size_t)best])
				best = c;
		model_predict(m, X + (size_t)i * (size_t)ns, 1, best, NULL, &out->logit[i]);
	}
	free(tmp);
	free(X);
	char buf[256];
	for (long i = 0; i < n; i++)
		out->id[i] = idcol >= 0 ? xstrdup(frame_cell_text(f, idcol, i, buf, sizeof buf))
				       : xasprintf("%ld", f->rowid[i]);
	return 0;
}

static void scored_free(scored *s)
{
	for (long i = 0; i < s->n; i++)
		free(s->id[i]);
	free(s->id);
	free(s->p);
	free(s->logit);
	free(s->oof);
	free(s->fold);
}

/* The stored out-of-fold predictions, by frame row (rowid). */
static int load_oof(sqlite3 *db, const model *m, const frame *f, scored *s, lm_err *err)
{
	s->oof = xmallocarray((size_t)(s->n ? s->n : 1), sizeof *s->oof);
	s->fold = xmallocarray((size_t)(s->n ? s->n : 1), sizeof *s->fold);
	for (long i = 0; i < s->n; i++) {
		s->oof[i] = NAN;
		s->fold[i] = -1;
	}
	ops_predictions pr; /* every patient in rowid order, as frame_load reads them */
	if (ops_predictions_load_id(db, m->id, &pr, err)) {
		ops_predictions_free(&pr);
		return err->status;
	}
	for (long i = 0; i < s->n; i++) {
		long k = ops_predictions_find(&pr, f->rowid[i]);
		if (k >= 0 && !isnan(pr.p[k])) {
			s->fold[i] = pr.fold[k];
			s->oof[i] = pr.p[k];
		}
	}
	ops_predictions_free(&pr);
	return 0;
}

static void write_csv(FILE *out, const model *m, const scored *s)
{
	fputs("id", out);
	if (s->W == 1) {
		fputs(",p", out);
	} else {
		for (int c = 0; c < s->W; c++) {
			char *h = xasprintf("p_%s", m->classes[c]);
			fputc(',', out);
			lm_csv_fputs(out, h);
			free(h);
		}
	}
	fputs(",logit", out);
	if (s->oof)
		fputs(",oof_p,fold", out);
	fputc('\n', out);
	for (long i = 0; i < s->n; i++) {
		lm_csv_fputs(out, s->id[i]);
		for (int c = 0; c < s->W; c++)
			fprintf(out, ",%.6f", (double)s->p[(size_t)i * (size_t)s->W + (size_t)c]);
		fprintf(out, ",%.6f", (double)s->logit[i]);
		if (s->oof) {
			if (isnan(s->oof[i]))
				fputs(",,", out);
			else
				fprintf(out, ",%.6f,%d", s->oof[i], s->fold[i]);
		}
		fputc('\n', out);
	}
}

/* A float as JSON with the 6 decimals the CSV shows, not float noise. */
static double r6(double v) { return round(v * 1e6) / 1e6; }

static void write_json(FILE *out, const model *m, const scored *s)
{
	cJSON *a = cJSON_CreateArray();
	for (long i = 0; i < s->n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", s->id[i]);
		if (s->W == 1) {
			cJSON_AddNumberToObject(o, "p", r6((double)s->p[i]));
		} else {
			cJSON *pc = cJSON_AddObjectToObject(o, "p");
			for (int c = 0; c < s->W; c++)
				cJSON_AddNumberToObject(pc, m->classes[c],
							r6((double)s->p[(size_t)i * (size_t)s->W + (size_t)c]));
		}
		cJSON_AddNumberToObject(o, "logit", r6((double)s->logit[i]));
		if (s->oof) {
			if (isnan(s->oof[i])) {
				cJSON_AddNullToObject(o, "oof_p");
				cJSON_AddNullToObject(o, "fold");
			} else {
				cJSON_AddNumberToObject(o, "oof_p", r6(s->oof[i]));
				cJSON_AddNumberToObject(o, "fold", s->fold[i]);
			}
		}
		cJSON_AddItemToArray(a, o);
	}
	char *t = cJSON_PrintUnformatted(a);
	fprintf(out, "%s\n", t);
	cJSON_free(t);
	cJSON_Delete(a);
}

/* Imports csv into a workbench file in a fresh temporary directory; *dir and *path are
 * malloc'd for the caller to remove and free. */
static sqlite3 *import_temp(const char *csv, const char *visits, const char *id, int row_ids,
			    char **dir, char **path, lm_err *err)
{
	const char *tmp = getenv("TMPDIR");
	*dir = xasprintf("%s/lumen-predict.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	*path = NULL;
	if (!mkdtemp(*dir)) {
		lm_seterr(err, EX_CANTCREAT, "%s: cannot create a temporary directory", *dir);
		free(*dir);
		*dir = NULL;
		return NULL;
	}
	*path = xasprintf("%s/input.lumen", *dir);
	import_opts o;
	memset(&o, 0, sizeof o);
	o.patients = csv;
	o.out = *path;
	o.id = id; /* the same id rules as lumen import, less --visits */
	o.row_ids = row_ids;
	o.visits = visits;
	o.no_visits_hint = 1;
	import_result res;
	if (import_run(&o, &res, err))
		return NULL;
	return store_open(*path, 1, err);
}

int cmd_predict(int argc, char **argv)
{
	static const struct option opts[] = {
		{"model", required_argument, NULL, 'm'}, {"input", required_argument, NULL, 'i'},
		{"csv", required_argument, NULL, 'c'},   {"json", no_argument, NULL, 'j'},
		{"times", required_argument, NULL, 'T'}, {"help", no_argument, NULL, 'h'},
		{"id", required_argument, NULL, 'I'},    {"row-ids", no_argument, NULL, 'R'},
		{"input-visits", required_argument, NULL, 'V'}, {NULL, 0, NULL, 0},
	};
	const char *name = NULL, *input = NULL, *csv = NULL, *times = NULL, *idcol_name = NULL;
	const char *input_visits = NULL;
	int json = 0, c, row_ids = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': name = optarg; break;
		case 'i': input = optarg; break;
		case 'V': input_visits = optarg; break;
		case 'c': csv = optarg; break;
		case 'j': json = 1; break;
		case 'I': idcol_name = optarg; break;
		case 'R': row_ids = 1; break;
		case 'T': times = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: return cli_usage_error(CMD, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(CMD, optind >= argc ? "no workbench FILE" : "one FILE expected");
	if (!name)
		return cli_usage_error(CMD, "--model NAME is required");
	if (json && csv)
		return cli_usage_error(CMD, "--json and --csv exclude each other");
	if (input_visits && !input)
		return cli_usage_error(CMD, "--input-visits goes with --input NEW.csv");
	if ((idcol_name || row_ids) && !input)
		return cli_usage_error(CMD, "--id and --row-ids describe --input NEW.csv");
	if (idcol_name && row_ids)
		return cli_usage_error(CMD, "--id and --row-ids exclude each other");
	const char *file = argv[optind];
	lm_err err = {0};
	int st = 0;
	sqlite3 *db = store_open(file, 0, &err), *in = NULL;
	model *m = NULL;
	frame f;
	memset(&f, 0, sizeof f);
	scored s;
	memset(&s, 0, sizeof s);
	char *tdir = NULL, *tpath = NULL;
	FILE *out = stdout;
	if (!db) {
		st = err.status;
		goto done;
	}
	if (!(m = model_load(db, name, &err))) {
		st = err.status;
		goto done;
	}
	sqlite3 *src = db;
	if (input) {
		if (!(in = import_temp(input, input_visits, idcol_name, row_ids, &tdir, &tpath, &err))) {
			st = err.status;
			goto done;
		}
		src = in;
	}
	if ((st = frame_load(src, "patients", NULL, 0, &f, &err)))
		goto done;
	if (input && (st = check_types(m, &f, input, &err)))
		goto done;
	{
		int S, K, F;
		if (venc_geometry(&m->spec, &S, &K, &F)) {
			if (input && !input_visits) /* no visits given: every sequence is empty */
				f.visits = xcalloc(1, sizeof *f.visits);
			else if ((st = venc_attach(src, &f, &err)))
				goto done;
		}
	}
	int idcol = -1;
	for (int j = 0; j < f.ncol; j++)
		if (f.cols.c[j].role == COL_ROLE_ID)
			idcol = j;
	if (times && !coxm_is_cox(m)) {
		st = lm_seterr(&err, EX_USAGE, "--times: model '%s' is not a Cox model", name);
		goto done;
	}
	if (coxm_is_cox(m)) { /* survival curves: predict_cox.c */
		if (csv && !(out = fopen(csv, "w"))) {
			out = stdout;
			st = lm_seterr(&err, EX_CANTCREAT, "%s: cannot write", csv);
			goto done;
		}
		if ((st = predict_cox_write(db, m, &f, idcol, !input, times, json, out, &err)))
			goto done;
		goto written;
	}
	if (!strcmp(m->task, "effect")) { /* every arm's risk and the effects: predict_effect.c */
		model *em = m;
		m = NULL;
		char *detail = xasprintf("model %s%s%s", name, input ? ", input " : "", input ? input : "");
		st = store_log_access(db, "predict", 0, detail, &err);
		free(detail);
		if (!st && csv && !(out = lm_fopen_private(csv))) {
			out = stdout;
			st = lm_seterr(&err, EX_CANTCREAT, "%s: cannot write", csv);
		}
		if (st) {
			model_free(em);
			goto done;
		}
		if ((st = predict_effect_write(db, em, &f, idcol, !input, json, out, &err)))
			goto done;
		goto written;
	}
	if ((st = score_frame(m, &f, idcol, &s, &err)))
		goto done;
	if (!input && (st = load_oof(db, m, &f, &s, &err)))
		goto done;
	{
		/* scoring the cohort reads every patient: an export for the access log, written
		 * before anything is shown (a file that cannot log shows nothing) */
		char *detail = xasprintf("model %s%s%s%s%s", name, input ? ", input " : "",
					 input ? input : "", csv ? ", csv " : "", csv ? csv : "");
		st = store_log_access(db, "predict", 0, detail, &err);
		free(detail);
		if (st)
			goto done;
	}
	/* predictions are patient data: the file is created 0600 */
	if (csv && !(out = lm_fopen_private(csv))) {
		out = stdout;
		st = lm_seterr(&err, EX_CANTCREAT, "%s: cannot write", csv);
		goto done;
	}
	if (json)
		write_json(out, m, &s);
	else
		write_csv(out, m, &s);
written:
	if (out != stdout && fclose(out) != 0) {
		out = stdout;
		st = lm_seterr(&err, EX_IOERR, "%s: write error", csv);
		goto done;
	}
	out = stdout;
done:
	if (out != stdout)
		fclose(out);
	if (st)
		lm_report(CMD, &err);
	scored_free(&s);
	frame_free(&f);
	model_free(m);
	if (in)
		store_close(in);
	if (tpath) {
		unlink(tpath);
		char *j = xasprintf("%s-journal", tpath);
		unlink(j);
		free(j);
	}
	if (tdir)
		rmdir(tdir);
	free(tpath);
	free(tdir);
	if (db)
		store_close(db);
	return st;
}
