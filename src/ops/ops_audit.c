/* ops_audit.c: the fairness audit of a model's stored out-of-fold predictions across groups,
 * for lumen audit, the TUI's Audit screen and lumen.audit: the model, its predictions (the one
 * reader), the groups, the patients left out and why, and audit_run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

int ops_audit_run(sqlite3 *db, const ops_audit_opts *o, ops_audit *d, lm_err *err)
{
	memset(d, 0, sizeof *d);
	ops_predictions pr;
	int st = ops_predictions_load(db, o->model, &pr, err);
	if (st) {
		ops_predictions_free(&pr);
		return st;
	}
	d->model_id = pr.model_id;
	d->model = xstrdup(o->model);
	if (pr.task && !strcmp(pr.task, "multiclass")) {
		ops_predictions_free(&pr);
		return lm_seterr(err, EX_DATAERR,
				 "model '%s' is multi-class; the audit needs a binary model", o->model);
	}
	const char *names[16];
	int nn = 0;
	char *bycopy = xstrdup(o->by), *save = NULL;
	for (char *t = strtok_r(bycopy, ",", &save); t && nn < 16; t = strtok_r(NULL, ",", &save))
		names[nn++] = t;
	frame f;
	st = frame_load(db, "patients", names, nn, &f, err);
	free(bycopy);
	if (st) {
		ops_predictions_free(&pr);
		return st;
	}
	st = groups_build(&f, o->by, o->bins, o->nbins, &d->g, err);
	d->have_g = !st;
	if (!st && (pr.n != f.nrow || (o->where && o->where->nrow != f.nrow)))
		st = lm_seterr(err, EX_SOFTWARE, "predictions of %ld patients for %ld", pr.n, f.nrow);
	long nrow = d->nrow = f.nrow;
	size_t cap = (size_t)(nrow ? nrow : 1);
	d->rowid = xmallocarray(cap, sizeof *d->rowid);
	memcpy(d->rowid, f.rowid, (size_t)nrow * sizeof *d->rowid);
	frame_free(&f);
	d->p = pr.p, pr.p = NULL;
	d->y = pr.y, pr.y = NULL;
	ops_predictions_free(&pr);
	d->group = xmallocarray(cap, sizeof *d->group);
	for (long r = 0; r < nrow; r++)
		d->group[r] = -1;
	for (long r = 0; r < nrow && !st; r++) {
		if (!d->p) /* an empty cohort */
			break;
		if (d->g.of[r] < 0)
			continue;
		if (o->where && !o->where->mask[r]) {
			d->filtered_out++;
			continue;
		}
		if (isnan(d->p[r])) {
			d->no_pred++;
			continue;
		}
		if (isnan(d->y[r])) {
			d->no_label++;
			continue;
		}
		if (d->p[r] < 0 || d->p[r] > 1)
			st = lm_seterr(err, EX_DATAERR,
				       "model '%s': patient %ld has prediction %g outside [0, 1]", o->model,
				       d->rowid[r], d->p[r]);
		d->group[r] = d->g.of[r];
		d->n++;
	}
	if (!st && d->n == 0)
		st = lm_seterr(err, EX_DATAERR, "model '%s' has no stored predictions to audit",
			       o->model);
	audit_opts ao = o->a;
	ao.ref = -1;
	if (!st && o->reference && (ao.ref = groups_find(&d->g, o->reference)) < 0) {
		lm_buf names_b = {0};
		for (int g = 0; g < d->g.n; g++)
			buf_printf(&names_b, "%s%s", g ? ", " : "", d->g.label[g]);
		st = lm_seterr(err, EX_USAGE, "--reference: no group '%s' (groups: %s)", o->reference,
			       names_b.data ? names_b.data : "");
		buf_free(&names_b);
	}
	if (ao.threads < 1)
		ao.threads = 1;
	if (!st && o->before_run)
		st = o->before_run(o->ctx, d->g.n);
	if (!st) {
		audit_input in = {nrow, d->p, d->y, d->group, d->g.n, d->g.label};
		st = audit_run(&in, &ao, &d->r, err);
		d->have_r = !st;
	}
	return st;
}

void ops_audit_free(ops_audit *d)
{
	if (!d)
		return;
	free(d->model);
	if (d->have_g)
		groups_free(&d->g);
	free(d->rowid);
	free(d->p);
	free(d->y);
	free(d->group);
	if (d->have_r)
		audit_result_free(&d->r);
	memset(d, 0, sizeof *d);
}

cJSON *ops_audit_json(const ops_audit *d)
{
	cJSON *j = audit_result_json(&d->r, d->g.label);
	cJSON *lo = cJSON_AddObjectToObject(j, "left_out");
	cJSON_AddNumberToObject(lo, "no_prediction", (double)d->no_pred);
	cJSON_AddNumberToObject(lo, "no_outcome", (double)d->no_label);
	cJSON_AddNumberToObject(lo, "group_missing", (double)d->g.missing);
	cJSON_AddNumberToObject(lo, "empty_combinations", (double)d->g.empty);
	if (d->filtered_out)
		cJSON_AddNumberToObject(lo, "filtered_out", (double)d->filtered_out);
	return j;
}
