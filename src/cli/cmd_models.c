/* cmd_models.c: `lumen models` — the stored models with their pooled out-of-fold metrics. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../data/store.h"
#include "../nn/coxmodel.h"
#include "../nn/effmodel.h"
#include "../ops/ops.h"
#include "cli.h"

#define CMD "models"

static const char usage[] =
	"Usage: lumen models FILE [--json]\n"
	"Lists the models of a workbench file with their out-of-fold metrics.\n"
	"  --json   one JSON array (every stored field, metrics per fold and pooled)\n";

static void put_num(char *buf, size_t len, double v, int digits)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", digits, v);
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
	ops_models ms;
	int status = ops_models_load(db, NULL, &ms, &err);
	if (status) {
		lm_report(CMD, &err);
		ops_models_free(&ms);
		store_close(db);
		return status;
	}
	if (json) {
		cJSON *arr = ops_models_json(&ms);
		cJSON *o;
		int k = 0;
		cJSON_ArrayForEach(o, arr) /* and each model's external validations */
			cJSON_AddItemToObject(o, "validations", ops_validations_json(db, ms.m[k++].id));
		char *s = cJSON_Print(arr);
		printf("%s\n", s);
		cJSON_free(s);
		cJSON_Delete(arr);
	} else {
		printf("%-20s %-11s %-14s %6s %6s %6s %6s %6s  %s\n", "NAME", "ARCH", "TARGET", "N",
		       "AUC", "AP", "BRIER", "SLOPE", "CREATED");
	}
	for (int i = 0; !json && i < ms.n; i++) {
		const ops_model_row *r = &ms.m[i];
		char tgt[64], a[16], ap[16], br[16], sl[16], arch[32];
		snprintf(tgt, sizeof tgt, "%s%s%s", r->target ? r->target : "", r->positive ? "=" : "",
			 r->positive ? r->positive : "");
		put_num(a, sizeof a, ops_model_metric(r, "auc"), 3);
		put_num(ap, sizeof ap, ops_model_metric(r, "average_precision"), 3);
		put_num(br, sizeof br, ops_model_metric(r, "brier"), 3);
		put_num(sl, sizeof sl, ops_model_metric(r, "calibration_slope"), 2);
		printf("%-20s %-11s %-14s %6ld %6s %6s %6s %6s  %s\n", r->name ? r->name : "",
		       ops_model_arch_text(r, arch, sizeof arch), tgt, r->n_used, a, ap, br, sl,
		       r->created_at ? r->created_at : "");
		cJSON *metrics = r->metrics ? cJSON_Parse(r->metrics) : NULL;
		coxm_print_summary(stdout, metrics); /* a Cox model: its coefficient table */
		effm_print_summary(stdout, metrics); /* an effect model: its evaluation */
		/* the warnings lumen train gave, kept with the model */
		const cJSON *wa = cJSON_GetObjectItemCaseSensitive(metrics, "warnings"), *w;
		cJSON_ArrayForEach(w, wa)
			if (cJSON_IsString(w))
				printf("  warning: %s\n", w->valuestring);
		cJSON *vals = ops_validations_json(db, r->id);
		ops_validations_print(stdout, vals); /* external validations (lumen validate) */
		cJSON_Delete(vals);
		cJSON_Delete(metrics);
	}
	if (!json && ms.n == 0)
		printf("(no models; lumen train FILE --model ARCH --target COL makes one)\n");
	ops_models_free(&ms);
	store_close(db);
	return status;
}
