/* ops_visit_attr.c: a visit-sequence model's attributions of one patient arranged over the
 * visits it read (ops.h, ops_visit_attr_get): the TUI's heat map and `lumen explain
 * --patient` both read this one function. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../data/visits_enc.h"
#include "ops.h"

int ops_visit_attr_get(const ops_patient *pv, ops_visit_attr *out)
{
	memset(out, 0, sizeof *out);
	out->top = -1;
	const model *m = pv->m;
	int S, K, F;
	if (!m || !pv->slot_attr || pv->nslot_attr != m->spec.nslot ||
	    !venc_geometry(&m->spec, &S, &K, &F))
		return -1;
	const enc_slot *sl = m->spec.slot + S;
	for (int q = 0; q < F; q++)
		out->nlab += !strcmp(sl[q].category, "value");
	out->lab = xcalloc((size_t)(out->nlab ? out->nlab : 1), sizeof *out->lab);
	int *lab_of = xmallocarray((size_t)F, sizeof *lab_of);
	for (int q = 0, j = -1; q < F; q++) {
		if (!strcmp(sl[q].category, "value"))
			out->lab[++j] = xstrdup(sl[q].column + 7); /* after "visits." */
		lab_of[q] = !strcmp(sl[q].category, "value") || !strcmp(sl[q].category, "missing") ? j : -1;
	}
	/* how many visits the model read: the patient's, up to K */
	long nv = 0;
	const venc_visits *v = pv->have_cohort ? pv->cohort.visits : NULL;
	if (v && pv->rowid >= 1 && pv->rowid <= v->maxrow)
		nv = v->start[pv->rowid + 1] - v->start[pv->rowid];
	out->nvisit = (int)(nv < K ? nv : K);
	out->first = (int)(nv - out->nvisit);
	out->m = xcalloc((size_t)(out->nvisit ? out->nvisit : 1) * (size_t)(out->nlab ? out->nlab : 1),
			 sizeof *out->m);
	out->visit = xcalloc((size_t)(out->nvisit ? out->nvisit : 1), sizeof *out->visit);
	for (int s = 0; s < S; s++)
		out->statics += pv->slot_attr[s];
	for (int t = 0; t < K; t++) {
		const float *a = pv->slot_attr + S + (size_t)t * F;
		int r = t - (K - out->nvisit); /* the visit this step holds, or < 0: padding */
		for (int q = 0; q < F; q++) {
			if (r < 0) {
				out->padded += a[q];
				continue;
			}
			out->visit[r] += a[q];
			if (lab_of[q] >= 0)
				out->m[(size_t)r * out->nlab + lab_of[q]] += a[q];
		}
	}
	for (int r = 0; r < out->nvisit; r++)
		if (out->top < 0 || fabsf(out->visit[r]) > fabsf(out->visit[out->top]))
			out->top = r;
	free(lab_of);
	return 0;
}

void ops_visit_attr_free(ops_visit_attr *v)
{
	if (!v)
		return;
	for (int j = 0; j < v->nlab; j++)
		free(v->lab[j]);
	free(v->lab);
	free(v->m);
	free(v->visit);
	memset(v, 0, sizeof *v);
}

cJSON *ops_visit_attr_json(const ops_visit_attr *v)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "visits_read", v->nvisit);
	cJSON_AddNumberToObject(j, "first", v->first);
	cJSON *labs = cJSON_AddArrayToObject(j, "labs");
	for (int q = 0; q < v->nlab; q++)
		cJSON_AddItemToArray(labs, cJSON_CreateString(v->lab[q]));
	cJSON *mx = cJSON_AddArrayToObject(j, "matrix");
	for (int r = 0; r < v->nvisit; r++)
		cJSON_AddItemToArray(mx, cJSON_CreateFloatArray(v->m + (size_t)r * v->nlab, v->nlab));
	cJSON_AddItemToObject(j, "per_visit", cJSON_CreateFloatArray(v->visit, v->nvisit));
	cJSON_AddNumberToObject(j, "padded", (double)v->padded);
	cJSON_AddNumberToObject(j, "static", (double)v->statics);
	cJSON_AddNumberToObject(j, "top", v->top);
	return j;
}
