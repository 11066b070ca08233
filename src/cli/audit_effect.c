/* audit_effect.c: the benefit by group of a treatment-effect model (audit_effect.h). */
#include "audit_effect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/effmodel.h"
#include "../ops/ops_effect.h"

cJSON *audit_effect_json(sqlite3 *db, const char *model_name, const char *by, lm_err *err)
{
	model *m = model_load(db, model_name, err);
	if (!m)
		return NULL;
	if (!effm_is_effect(m)) {
		model_free(m);
		return NULL;
	}
	effm *e = effm_from_model(db, m, err);
	if (!e)
		return NULL;
	cJSON *out = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(out, "arms");
	int nc = 0;
	char **cols = lm_split(by, &nc);
	for (int c = 0; c < nc; c++)
		for (int a = 1; a < e->narm; a++) {
			ops_effect_groups g;
			if (ops_effect_groups_run(db, e, a, cols[c], &g, err)) {
				cJSON_Delete(out);
				out = NULL;
				goto done;
			}
			cJSON *j = ops_effect_groups_json(&g, e);
			if (g.ngroup > 20) {
				cJSON_DeleteItemFromObjectCaseSensitive(j, "groups");
				cJSON_AddStringToObject(j, "note", "more than 20 groups: not shown (a "
							"categorical column or lumen query --where)");
			}
			cJSON_AddItemToArray(arr, j);
			ops_effect_groups_free(&g);
		}
done:
	lm_split_free(cols, nc);
	effm_free(e);
	return out;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

void audit_effect_print(const cJSON *j)
{
	const cJSON *a;
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, "arms"))
	{
		const char *arm = cJSON_GetObjectItemCaseSensitive(a, "arm")->valuestring;
		const char *ref = cJSON_GetObjectItemCaseSensitive(a, "reference")->valuestring;
		const char *col = cJSON_GetObjectItemCaseSensitive(a, "by")->valuestring;
		printf("\nBenefit of %s against %s by %s (out of fold; observed: arm's outcome rate - "
		       "reference's):\n", arm, ref, col);
		const cJSON *note = cJSON_GetObjectItemCaseSensitive(a, "note");
		if (cJSON_IsString(note)) {
			printf("  %s\n", note->valuestring);
			continue;
		}
		printf("  %-16s %6s %6s %6s %10s %10s %22s\n", "GROUP", "N", "N_ARM", "N_REF",
		       "BENEFIT", "EFFECT", "OBSERVED (95% CI)");
		const cJSON *g;
		cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(a, "groups"))
		{
			char ci[48];
			snprintf(ci, sizeof ci, "%+.3f (%+.3f, %+.3f)", num(g, "observed_effect"),
				 num(g, "lo"), num(g, "hi"));
			printf("  %-16s %6.0f %6.0f %6.0f %+10.3f %+10.3f %22s\n",
			       cJSON_GetObjectItemCaseSensitive(g, "group")->valuestring, num(g, "n"),
			       num(g, "n_arm"), num(g, "n_reference"), num(g, "predicted_benefit"),
			       num(g, "predicted_effect"), ci);
		}
	}
}
