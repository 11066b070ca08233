/* explain_effect.c: `lumen explain` for treatment-effect models (explain_effect.h), printing
 * what src/ops/ops_effect.c computes. */
#include "explain_effect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/effmodel.h"
#include "../ops/ops_effect.h"


typedef struct byattr {
	double v;
	int j;
} byattr;

static int cmp_byattr(const void *a, const void *b)
{
	const byattr *x = a, *y = b;
	return (x->v < y->v) - (x->v > y->v);
}

static void print_patient(const ops_effect_patient *p, const effm *e, const char *id, int top)
{
	printf("patient %s: effect of %s on %s, %s\n", id, e->column, e->base->target,
	       p->fold >= 0 ? "out of fold (the fold networks that held it out)"
			    : "the final networks (not a training patient)");
	printf("  %-14s %-18s %s\n", "ARM", "RISK", "EFFECT vs REFERENCE");
	for (int a = 0; a < p->narm; a++) {
		char r[48], ef[64];
		if (isnan(p->p_sd[a]))
			snprintf(r, sizeof r, "%.3f", p->p[a]);
		else
			snprintf(r, sizeof r, "%.3f +- %.3f", p->p[a], p->p_sd[a]);
		if (a == 0)
			snprintf(ef, sizeof ef, "(reference)");
		else if (isnan(p->effect_sd[a]))
			snprintf(ef, sizeof ef, "%+.3f (benefit %+.3f)", p->effect[a], -p->effect[a]);
		else
			snprintf(ef, sizeof ef, "%+.3f +- %.3f (benefit %+.3f)", p->effect[a],
				 p->effect_sd[a], -p->effect[a]);
		printf("  %-14s %-18s %s\n", e->arm[a], r, ef);
	}
	printf("Why the effect of %s (%s %+.4f = baseline %+.4f + attributions %+.4f; completeness"
	       " error %.2g):\n", e->arm[p->arm], p->quantity, p->fx, p->fb, p->fx - p->fb, p->delta);
	byattr *v = xmallocarray((size_t)(p->ncol ? p->ncol : 1), sizeof *v);
	for (int j = 0; j < p->ncol; j++) {
		v[j].v = p->attr[j];
		v[j].j = j;
	}
	qsort(v, (size_t)p->ncol, sizeof *v, cmp_byattr);
	printf("  lowers the risk under %s more (more benefit):\n", e->arm[p->arm]);
	for (int q = p->ncol - 1, k = 0; q >= 0 && k < top && v[q].v < 0; q--, k++)
		printf("    %-20s %-12s %+.4f\n", p->column[v[q].j], p->value[v[q].j], v[q].v);
	printf("  raises it (less benefit):\n");
	for (int q = 0; q < p->ncol && q < top && v[q].v > 0; q++)
		printf("    %-20s %-12s %+.4f\n", p->column[v[q].j], p->value[v[q].j], v[q].v);
	free(v);
}

int explain_effect(sqlite3 *db, model **m, const ig_inputs *in, const char *patient,
		   const char *arm, const ig_opts *io, int json, int top, int quiet, lm_err *err)
{
	model *mm = *m;
	*m = NULL;
	effm *e = effm_from_model(db, mm, err);
	if (!e)
		return err->status;
	int st = 0, a = ops_effect_arm(e, arm, err);
	if (a < 0) {
		effm_free(e);
		return err->status;
	}
	if (patient) {
		long row = ig_inputs_find(in, patient);
		if (row < 0) {
			effm_free(e);
			return lm_seterr(err, EX_DATAERR, "no patient with id '%s'", patient);
		}
		ops_effect_patient p;
		if (!(st = ops_effect_patient_load(db, e, in, row, a, io, &p, err))) {
			if (json) {
				cJSON *j = ops_effect_patient_json(&p, e);
				cJSON_AddStringToObject(j, "id", patient);
				char *s = json_take(j);
				printf("%s\n", s);
				free(s);
			} else {
				print_patient(&p, e, patient, top);
			}
			st = store_log_access(db, "explain", p.rowid, e->base->name, err);
			ops_effect_patient_free(&p);
		}
		effm_free(e);
		return st;
	}
	ops_effect_explain r;
	if (!(st = ops_effect_explain_run(db, e, in, a, io, 1, &r, err))) {
		if (json) {
			char *s = json_take(ops_effect_explain_json(&r, e));
			printf("%s\n", s);
			free(s);
		} else {
			printf("effect of %s against %s (%s), %ld patients: completeness error max %.2g,"
			       " mean %.2g; stored as method effect:%s\n", e->arm[a], e->arm[0],
			       r.quantity, r.n, r.max_delta, r.mean_delta, e->arm[a]);
			printf("Effect modifiers (mean |attribution| over the cohort):\n");
			cJSON *j = ops_effect_explain_json(&r, e);
			const cJSON *x;
			int k = 0;
			cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "importance"))
			{
				if (k++ >= 2 * top)
					break;
				printf("  %-20s %.4f\n",
				       cJSON_GetObjectItemCaseSensitive(x, "column")->valuestring,
				       cJSON_GetObjectItemCaseSensitive(x, "mean_abs")->valuedouble);
			}
			cJSON_Delete(j);
		}
		if (!quiet)
			fprintf(stderr, "lumen: explain: %ld patients, effect of %s explained\n", r.n,
				e->arm[a]);
		ops_effect_explain_free(&r);
	}
	effm_free(e);
	return st;
}
