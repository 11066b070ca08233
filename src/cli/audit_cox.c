/* audit_cox.c: a survival model audited by group — the concordance and the calibration at the
 * horizon in each group, from the stored out-of-fold predictions (audit_cox.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../stats/km.h"
#include "../stats/metrics.h"
#include "../stats/surveval.h"
#include "audit_cox.h"
#include "../ops/ops.h"

cJSON *audit_cox_json(sqlite3 *db, long model_id, const frame *f, const int *grp, int G,
		      char *const *labels, lm_err *err)
{
	sqlite3_stmt *st = store_prepare(db, "SELECT task, hyper FROM models WHERE id = ?", err);
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, model_id);
	cJSON *h = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
	    !strcmp((const char *)sqlite3_column_text(st, 0), "survival"))
		h = cJSON_Parse(sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
	sqlite3_finalize(st);
	const cJSON *tc = cJSON_GetObjectItemCaseSensitive(h, "time");
	const cJSON *ec = cJSON_GetObjectItemCaseSensitive(h, "event");
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(h, "event_value");
	const cJSON *hz = cJSON_GetObjectItemCaseSensitive(h, "horizon");
	if (!cJSON_IsString(tc) || !cJSON_IsString(ec) || !cJSON_IsNumber(hz)) {
		cJSON_Delete(h);
		return NULL;
	}
	double horizon = hz->valuedouble;
	const char *names[2] = {tc->valuestring, ec->valuestring};
	frame tf;
	if (frame_load(db, "patients", names, 2, &tf, err)) {
		cJSON_Delete(h);
		return NULL;
	}
	long n = f->nrow;
	if (tf.nrow != n) {
		frame_free(&tf);
		cJSON_Delete(h);
		lm_seterr(err, EX_SOFTWARE, "the patients changed while auditing");
		return NULL;
	}
	/* the event value: the named one (its category index for a text column), else 1 */
	double evv = 1;
	const store_column *em = tf.col[1].meta;
	if (cJSON_IsString(ev)) {
		if (em->type == COL_TYPE_TEXT) {
			for (int k = 0; k < em->ncat; k++)
				if (!strcmp(em->cats[k], ev->valuestring))
					evv = k;
		} else {
			parse_double(ev->valuestring, &evv);
		}
	} else { /* two codes: the larger is the event */
		double hi = -INFINITY;
		for (long r = 0; r < n; r++)
			if (!isnan(tf.col[1].v[r]) && tf.col[1].v[r] > hi)
				hi = tf.col[1].v[r];
		evv = hi;
	}
	double *lp = xmallocarray((size_t)(n ? n : 1), sizeof *lp);
	double *risk = xmallocarray((size_t)(n ? n : 1), sizeof *risk);
	for (long r = 0; r < n; r++)
		lp[r] = risk[r] = NAN;
	ops_predictions pr; /* the one reader of `predictions` */
	if (ops_predictions_load_id(db, model_id, &pr, NULL) == 0)
		for (long r = 0; r < n; r++) {
			long k = ops_predictions_find(&pr, f->rowid[r]);
			if (k >= 0) {
				lp[r] = pr.logit[k];
				risk[r] = pr.p[k];
			}
		}
	ops_predictions_free(&pr);
	double *t = xmallocarray((size_t)(n ? n : 1), sizeof *t), *l = xmallocarray((size_t)(n ? n : 1), sizeof *l);
	double *s = xmallocarray((size_t)(n ? n : 1), sizeof *s);
	int *e = xmallocarray((size_t)(n ? n : 1), sizeof *e);
	cJSON *out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "horizon", horizon);
	cJSON *ga = cJSON_AddArrayToObject(out, "groups");
	for (int g = 0; g < G; g++) {
		long k = 0, evs = 0;
		double sum = 0;
		for (long r = 0; r < n; r++) {
			if (grp[r] != g || isnan(lp[r]) || isnan(tf.col[0].v[r]) || isnan(tf.col[1].v[r]))
				continue;
			t[k] = tf.col[0].v[r];
			e[k] = tf.col[1].v[r] == evv;
			l[k] = lp[r];
			s[k] = 1 - risk[r];
			sum += risk[r];
			evs += e[k];
			k++;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "group", labels[g]);
		cJSON_AddNumberToObject(o, "n", (double)k);
		cJSON_AddNumberToObject(o, "events", (double)evs);
		surveval_conc c;
		surveval_concordance(t, e, l, k, 0, INFINITY, &c);
		metrics_json_number(o, "c_index", c.c);
		km_curve km;
		km_fit(t, e, k, &km);
		metrics_json_number(o, "predicted_risk", k ? sum / (double)k : (double)NAN);
		metrics_json_number(o, "observed_risk", k ? 1 - km_surv_at(&km, horizon, NULL, NULL) : (double)NAN);
		metrics_json_number(o, "brier", surveval_brier_t(t, e, s, k, horizon));
		km_free(&km);
		cJSON_AddItemToArray(ga, o);
	}
	free(t);
	free(l);
	free(s);
	free(e);
	free(lp);
	free(risk);
	frame_free(&tf);
	cJSON_Delete(h);
	return out;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

void audit_cox_print(const cJSON *sv)
{
	if (!sv)
		return;
	printf("\nSurvival by group (out of fold): Harrell's C, and at t = %g the mean predicted risk\n"
	       "against the Kaplan-Meier risk observed in the group, and the IPCW Brier score\n",
	       num(sv, "horizon"));
	printf("  %-16s %6s %6s %7s %10s %10s %7s\n", "group", "n", "events", "C", "predicted",
	       "observed", "Brier");
	const cJSON *g;
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(sv, "groups"))
	{
		const cJSON *lab = cJSON_GetObjectItemCaseSensitive(g, "group");
		printf("  %-16.16s %6.0f %6.0f %7.3f %10.3f %10.3f %7.4f\n",
		       cJSON_IsString(lab) ? lab->valuestring : "?", num(g, "n"), num(g, "events"),
		       num(g, "c_index"), num(g, "predicted_risk"), num(g, "observed_risk"),
		       num(g, "brier"));
	}
}
