/* cmd_info.c: lumen info FILE.lumen [--json] — datasets and their columns. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../data/store.h"
#include "../data/labels.h"
#include "cli.h"

static const char usage[] =
	"Usage: lumen info FILE.lumen [--json]\n"
	"Shows the datasets of a workbench file (source file, SHA-256, rows, columns, import\n"
	"time) and, per column, its type, role, missing count, distinct count and a summary:\n"
	"mean, sd, min and max for numbers, the most frequent values for text and booleans.\n"
	"\n"
	"      --json     the same as one JSON object on stdout\n"
	"  -h, --help     this help\n";

typedef struct dsinfo {
	char *name, *file, *sha, *delim, *at;
	long rows, cols;
} dsinfo;

static char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return xstrdup(s ? (const char *)s : "");
}

static int load_datasets(sqlite3 *db, dsinfo **out, int *n, lm_err *err)
{
	sqlite3_stmt *st = store_prepare(
		db,
		"SELECT name, file, sha256, rows, columns, delimiter, imported_at FROM datasets"
		" ORDER BY name = 'visits', name",
		err);
	if (!st)
		return err->status;
	*out = NULL;
	*n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, (size_t)*n + 1, sizeof **out);
		dsinfo *d = &(*out)[(*n)++];
		d->name = col_str(st, 0);
		d->file = col_str(st, 1);
		d->sha = col_str(st, 2);
		d->rows = (long)sqlite3_column_int64(st, 3);
		d->cols = (long)sqlite3_column_int64(st, 4);
		d->delim = col_str(st, 5);
		d->at = col_str(st, 6);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
	return 0;
}

static void free_datasets(dsinfo *d, int n)
{
	for (int i = 0; i < n; i++) {
		free(d[i].name);
		free(d[i].file);
		free(d[i].sha);
		free(d[i].delim);
		free(d[i].at);
	}
	free(d);
}

/* A number in at most 7 characters where possible (%.4g, then %.0f for big whole values). */
static void fmt_num(char *b, size_t n, double v)
{
	if (!isfinite(v))
		snprintf(b, n, "-");
	else if (fabs(v) >= 1e4 && fabs(v) < 1e9)
		snprintf(b, n, "%.0f", v);
	else
		snprintf(b, n, "%.4g", v);
}

static void summary(const store_column *c, char *b, size_t n)
{
	b[0] = 0;
	if (c->type == COL_TYPE_INTEGER || c->type == COL_TYPE_REAL) {
		char m[32], s[32], lo[32], hi[32];
		fmt_num(m, sizeof m, c->mean);
		fmt_num(s, sizeof s, c->sd);
		fmt_num(lo, sizeof lo, c->min);
		fmt_num(hi, sizeof hi, c->max);
		snprintf(b, n, "%s ± %s [%s, %s]", m, s, lo, hi);
		return;
	}
	size_t len = 0;
	for (int k = 0; k < c->ncat && len + 1 < n; k++) {
		int w = snprintf(b + len, n - len, "%s%s %ld", k ? ", " : "", c->cats[k], c->cat_n[k]);
		if (w < 0 || (size_t)w >= n - len) {
			b[len] = 0;
			break;
		}
		len += (size_t)w;
	}
	if (c->ncat == 0 && c->type == COL_TYPE_TEXT && c->distinct > 0)
		snprintf(b, n, "free text");
}

/* Copies s into out cut to width display characters (UTF-8 aware), with "…" when cut. */
static void fit(char *out, size_t n, const char *s, int width)
{
	int cols = 0;
	size_t i = 0, o = 0, last_ok = 0;
	while (s[i] && o + 4 < n) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (cols == width - 1)
				last_ok = o;
			if (cols == width)
				break;
			cols++;
		}
		out[o++] = s[i++];
	}
	if (s[i] && cols >= width) {
		o = last_ok;
		memcpy(out + o, "\xe2\x80\xa6", 3);
		o += 3;
	}
	out[o] = 0;
}

static void print_text(const char *path, sqlite3 *db, const dsinfo *ds, int nds,
		       const store_columns *cols)
{
	char *prog = store_meta_get(db, "program"), *created = store_meta_get(db, "created_at"),
	     *ver = store_meta_get(db, "schema_version");
	printf("%s: %s, schema %s, created %s\n\n", path, prog ? prog : "?", ver ? ver : "?",
	       created ? created : "?");
	free(prog);
	free(created);
	free(ver);
	printf("%-9s %-20s %-12s %8s %4s  %s\n", "dataset", "file", "sha256", "rows", "cols",
	       "imported");
	for (int i = 0; i < nds; i++) {
		char f[64];
		fit(f, sizeof f, ds[i].file, 20);
		printf("%-9s %-20s %-12.12s %8ld %4ld  %s\n", ds[i].name, f, ds[i].sha, ds[i].rows,
		       ds[i].cols, ds[i].at);
	}
	char *rows = store_meta_get(db, "row_ids");
	int idc = nds > 0 ? store_columns_role(&cols[0], COL_ROLE_ID) : -1;
	if (rows)
		printf("\npatient ids: the row numbers 1..%ld, in column '%s' (the CSV had no id "
		       "column, or --row-ids)\n",
		       nds > 0 ? ds[0].rows : 0L, rows);
	else if (idc >= 0)
		printf("\npatient ids: column '%s'\n", cols[0].c[idc].name);
	free(rows);
	for (int i = 0; i < nds; i++) {
		const store_columns *cs = &cols[i];
		printf("\n%s\n%-16s %-7s %-9s %7s %7s  %s\n", ds[i].name, "column", "type", "role",
		       "missing", "distinct", "summary");
		for (int j = 0; j < cs->n; j++) {
			const store_column *c = &cs->c[j];
			char name[96], sum[512], s2[256];
			fit(name, sizeof name, c->name, 16);
			summary(c, sum, sizeof sum);
			fit(s2, sizeof s2, sum, 79 - 54); /* 79: never the last column */
			/* pad the (possibly multibyte) name to 16 display columns */
			int w = 0;
			for (const char *p = name; *p; p++)
				w += ((unsigned char)*p & 0xc0) != 0x80;
			printf("%s%*s %-7s %-9s %7ld %8ld  %s\n", name, 16 - w, "",
			       store_type_name(c->type), store_role_name(c->role), c->missing,
			       c->distinct, s2);
		}
		/* the clinical words (lumen label, lumen import --labels) */
		int any = 0;
		for (int j = 0; j < cs->n; j++) {
			const store_column *c = &cs->c[j];
			if (!c->label && !c->unit && !c->nvl)
				continue;
			if (!any++)
				printf("\n%s labels\n%-16s %s\n", ds[i].name, "column", "label (unit): values");
			char lab[256];
			lm_buf t = {0};
			buf_puts(&t, lbl_name_unit(c, lab, sizeof lab));
			for (int k = 0; k < c->nvl; k++)
				buf_printf(&t, "%s%s = %s", k ? ", " : ": ", c->vl[k].code, c->vl[k].text);
			/* wrapped at blanks within 79 columns, under the label */
			printf("%-16s ", c->name);
			const char *p = t.data;
			int w = 79 - 17;
			while (p && *p) {
				int n = (int)strlen(p), cut = n;
				if (n > w) { /* bytes, close enough to columns for a break point */
					cut = w;
					while (cut > 0 && p[cut] != ' ')
						cut--;
					if (cut == 0)
						cut = w;
				}
				printf("%.*s\n", cut, p);
				p += cut;
				while (*p == ' ')
					p++;
				if (*p)
					printf("%17s", "");
			}
			buf_free(&t);
		}
	}
}

static void add_num(cJSON *o, const char *k, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void print_json(const char *path, sqlite3 *db, const dsinfo *ds, int nds,
		       const store_columns *cols)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "file", path);
	static const char *const keys[] = {"schema_version", "program", "created_at"};
	cJSON *meta = cJSON_AddObjectToObject(root, "meta");
	for (size_t k = 0; k < LM_ARRAY_LEN(keys); k++) {
		char *v = store_meta_get(db, keys[k]);
		if (v)
			cJSON_AddStringToObject(meta, keys[k], v);
		free(v);
	}
	char *rows = store_meta_get(db, "row_ids");
	int idc = nds > 0 ? store_columns_role(&cols[0], COL_ROLE_ID) : -1;
	cJSON *ids = cJSON_AddObjectToObject(root, "patient_ids");
	if (rows || idc >= 0)
		cJSON_AddStringToObject(ids, "column", rows ? rows : cols[0].c[idc].name);
	else
		cJSON_AddNullToObject(ids, "column");
	cJSON_AddBoolToObject(ids, "row_numbers", rows != NULL);
	free(rows);
	cJSON *arr = cJSON_AddArrayToObject(root, "datasets");
	for (int i = 0; i < nds; i++) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "name", ds[i].name);
		cJSON_AddStringToObject(d, "file", ds[i].file);
		cJSON_AddStringToObject(d, "sha256", ds[i].sha);
		cJSON_AddNumberToObject(d, "rows", (double)ds[i].rows);
		cJSON_AddNumberToObject(d, "columns", (double)ds[i].cols);
		cJSON_AddStringToObject(d, "delimiter", ds[i].delim);
		cJSON_AddStringToObject(d, "imported_at", ds[i].at);
		cJSON *ca = cJSON_AddArrayToObject(d, "column_info");
		for (int j = 0; j < cols[i].n; j++) {
			const store_column *c = &cols[i].c[j];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", c->name);
			cJSON_AddStringToObject(o, "type", store_type_name(c->type));
			cJSON_AddStringToObject(o, "role", store_role_name(c->role));
			cJSON_AddNumberToObject(o, "missing", (double)c->missing);
			cJSON_AddNumberToObject(o, "distinct", (double)c->distinct);
			add_num(o, "mean", c->mean);
			add_num(o, "sd", c->sd);
			add_num(o, "min", c->min);
			add_num(o, "max", c->max);
			if (c->label)
				cJSON_AddStringToObject(o, "label", c->label);
			if (c->unit)
				cJSON_AddStringToObject(o, "unit", c->unit);
			if (c->nvl) {
				cJSON *vl = cJSON_AddArrayToObject(o, "values");
				for (int k = 0; k < c->nvl; k++) {
					cJSON *e = cJSON_CreateObject();
					cJSON_AddStringToObject(e, "code", c->vl[k].code);
					cJSON_AddStringToObject(e, "label", c->vl[k].text);
					cJSON_AddItemToArray(vl, e);
				}
			}
			if (c->type == COL_TYPE_TEXT || c->type == COL_TYPE_BOOLEAN) {
				cJSON *cat = cJSON_AddArrayToObject(o, "categories");
				for (int k = 0; k < c->ncat; k++) {
					cJSON *e = cJSON_CreateObject();
					cJSON_AddStringToObject(e, "value", c->cats[k]);
					cJSON_AddNumberToObject(e, "n", (double)c->cat_n[k]);
					cJSON_AddItemToArray(cat, e);
				}
			}
			cJSON_AddItemToArray(ca, o);
		}
		cJSON_AddItemToArray(arr, d);
	}
	char *s = cJSON_Print(root);
	puts(s);
	free(s);
	cJSON_Delete(root);
}

int cmd_info(int argc, char **argv)
{
	static const struct option lo[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int json = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else
			return cli_usage_error(argv[0], "unknown option '%s'", argv[optind - 1]);
	}
	if (optind != argc - 1)
		return cli_usage_error(argv[0], "one workbench file expected");
	const char *path = argv[optind];
	lm_err err = {0, ""};
	sqlite3 *db = store_open(path, 1, &err);
	if (!db) {
		lm_report(argv[0], &err);
		return err.status;
	}
	dsinfo *ds = NULL;
	int nds = 0, st = load_datasets(db, &ds, &nds, &err);
	store_columns *cols = xcalloc((size_t)(nds ? nds : 1), sizeof *cols);
	for (int i = 0; !st && i < nds; i++)
		st = store_columns_load(db, ds[i].name, &cols[i], &err);
	if (st)
		lm_report(argv[0], &err);
	else if (json)
		print_json(path, db, ds, nds, cols);
	else
		print_text(path, db, ds, nds, cols);
	for (int i = 0; i < nds; i++)
		store_columns_free(&cols[i]);
	free(cols);
	free_datasets(ds, nds);
	store_close(db);
	return st;
}
