/* cmd_models.c: `lumen models` — the stored models with their pooled out-of-fold metrics. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../data/store.h"
#include "../nn/coxmodel.h"
#include "../ops/ops.h"
#include "cli.h"

#define CMD "models"

static const char usage[] =
	"Usage: lumen models FILE [--json]\n"
	"Lists the models of a workbench file with their out-of-fold metrics.\n"
	"  --json   one JSON array (every stored field, metrics per fold and pooled)\n";

static double pooled(const cJSON *metrics, const char *key)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(metrics, "pooled");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

static void put_num(char *buf, size_t len, double v, int digits)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", digits, v);
}

static cJSON *parse_or_null(const unsigned char *s)
{
	cJSON *j = s ? cJSON_Parse((const char *)s) : NULL;
	return j ? j : cJSON_CreateNull();
}

int cmd_models(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int json = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else {
			return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(CMD, optind >= argc ? "no workbench FILE" : "one FILE expected");
	lm_err err = {0};
	sqlite3 *db = store_open(argv[optind], 1, &err);
	if (!db) {
		lm_report(CMD, &err);
		return err.status;
	}
	sqlite3_stmt *st = store_prepare(
		db,
		"SELECT id, name, arch, target, positive, task, n_used, n_excluded, metrics, created_at,"
		" folds, final, seed, classes, hyper, inputs, data_sha256, version FROM models ORDER BY id",
		&err);
	if (!st) {
		lm_report(CMD, &err);
		store_close(db);
		return err.status;
	}
	cJSON *arr = cJSON_CreateArray();
	int rc, n = 0;
	if (!json)
		printf("%-20s %-11s %-14s %6s %6s %6s %6s %6s  %s\n", "NAME", "ARCH", "TARGET", "N",
		       "AUC", "AP", "BRIER", "SLOPE", "CREATED");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *arch = (const char *)sqlite3_column_text(st, 2);
		const char *target = (const char *)sqlite3_column_text(st, 3);
		const char *pos = (const char *)sqlite3_column_text(st, 4);
		const char *created = (const char *)sqlite3_column_text(st, 9);
		cJSON *metrics = parse_or_null(sqlite3_column_text(st, 8));
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
			cJSON_AddStringToObject(o, "name", name ? name : "");
			cJSON_AddStringToObject(o, "arch", arch ? arch : "");
			cJSON_AddStringToObject(o, "target", target ? target : "");
			if (pos)
				cJSON_AddStringToObject(o, "positive", pos);
			else
				cJSON_AddNullToObject(o, "positive");
			const char *task = (const char *)sqlite3_column_text(st, 5);
			cJSON_AddStringToObject(o, "task", task ? task : "");
			cJSON_AddItemToObject(o, "classes", parse_or_null(sqlite3_column_text(st, 13)));
			cJSON_AddNumberToObject(o, "n_used", (double)sqlite3_column_int64(st, 6));
			cJSON_AddNumberToObject(o, "n_excluded", (double)sqlite3_column_int64(st, 7));
			cJSON_AddNumberToObject(o, "folds", sqlite3_column_int(st, 10));
			const char *fin = (const char *)sqlite3_column_text(st, 11);
			cJSON_AddStringToObject(o, "final", fin ? fin : "");
			cJSON_AddNumberToObject(o, "seed", (double)sqlite3_column_int64(st, 12));
			cJSON_AddItemToObject(o, "hyper", parse_or_null(sqlite3_column_text(st, 14)));
			cJSON_AddItemToObject(o, "inputs", parse_or_null(sqlite3_column_text(st, 15)));
			const char *sha = (const char *)sqlite3_column_text(st, 16);
			const char *ver = (const char *)sqlite3_column_text(st, 17);
			cJSON_AddStringToObject(o, "data_sha256", sha ? sha : "");
			cJSON_AddStringToObject(o, "version", ver ? ver : "");
			cJSON_AddStringToObject(o, "created_at", created ? created : "");
			cJSON_AddItemToObject(o, "metrics", metrics);
			cJSON_AddItemToObject(o, "validations",
					      ops_validations_json(db, (long)sqlite3_column_int64(st, 0)));
			cJSON_AddItemToArray(arr, o);
			continue;
		}
		char tgt[64], a[16], ap[16], br[16], sl[16];
		snprintf(tgt, sizeof tgt, "%s%s%s", target ? target : "", pos ? "=" : "", pos ? pos : "");
		put_num(a, sizeof a, pooled(metrics, "auc"), 3);
		put_num(ap, sizeof ap, pooled(metrics, "average_precision"), 3);
		put_num(br, sizeof br, pooled(metrics, "brier"), 3);
		put_num(sl, sizeof sl, pooled(metrics, "calibration_slope"), 2);
		printf("%-20s %-11s %-14s %6ld %6s %6s %6s %6s  %s\n", name ? name : "", arch ? arch : "",
		       tgt, (long)sqlite3_column_int64(st, 6), a, ap, br, sl, created ? created : "");
		coxm_print_summary(stdout, metrics); /* a Cox model: its coefficient table */
		/* the warnings lumen train gave, kept with the model */
		const cJSON *wa = cJSON_GetObjectItemCaseSensitive(metrics, "warnings"), *w;
		cJSON_ArrayForEach(w, wa)
			if (cJSON_IsString(w))
				printf("  warning: %s\n", w->valuestring);
		cJSON *vals = ops_validations_json(db, (long)sqlite3_column_int64(st, 0));
		ops_validations_print(stdout, vals); /* external validations (lumen validate) */
		cJSON_Delete(vals);
		cJSON_Delete(metrics);
	}
	sqlite3_finalize(st);
	int status = 0;
	if (rc != SQLITE_DONE) {
		status = lm_seterr(&err, store_status(rc), "%s", sqlite3_errmsg(db));
		lm_report(CMD, &err);
	} else if (json) {
		char *s = cJSON_Print(arr);
		printf("%s\n", s);
		cJSON_free(s);
	} else if (n == 0) {
		printf("(no models; lumen train FILE --model ARCH --target COL makes one)\n");
	}
	cJSON_Delete(arr);
	store_close(db);
	return status;
}
