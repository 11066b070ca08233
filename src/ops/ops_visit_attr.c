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
	out->top = out->attn_top = -1;
	if (!pv->m || !pv->slot_attr || pv->nslot_attr != pv->m->spec.nslot)
		return -1;
	int st = ops_visit_attr_of(pv->m, pv->slot_attr, pv->have_cohort ? pv->cohort.visits : NULL,
				   pv->rowid, out);
	if (!st)
		ops_visit_attr_attention(out, pv->m, pv->vatt, pv->nvatt);
	return st;
}

void ops_visit_attr_attention(ops_visit_attr *out, const model *m, const float *w, int K)
{
	int S, Km, F;
	if (!w || out->attn || !venc_geometry(&m->spec, &S, &Km, &F) || K != Km)
		return;
	/* the visits read are the last nvisit steps; the steps before them are padding */
	int pad = K - out->nvisit;
	out->attn = xcalloc((size_t)(out->nvisit ? out->nvisit : 1), sizeof *out->attn);
	out->attn_top = -1;
	out->attn_padded = 0;
	for (int t = 0; t < pad; t++)
		out->attn_padded += w[t];
	for (int r = 0; r < out->nvisit; r++) {
		out->attn[r] = w[pad + r];
		if (out->attn_top < 0 || out->attn[r] > out->attn[out->attn_top])
			out->attn_top = r;
	}
}

int ops_visit_attr_of(const model *m, const float *slots, const venc_visits *v, long rowid,
		      ops_visit_attr *out)
{
	memset(out, 0, sizeof *out);
	out->top = out->attn_top = -1;
	int S, K, F;
	if (!m || !slots || !venc_geometry(&m->spec, &S, &K, &F))
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
	if (v && rowid >= 1 && rowid <= v->maxrow)
		nv = v->start[rowid + 1] - v->start[rowid];
	out->nvisit = (int)(nv < K ? nv : K);
	out->first = (int)(nv - out->nvisit);
	out->m = xcalloc((size_t)(out->nvisit ? out->nvisit : 1) * (size_t)(out->nlab ? out->nlab : 1),
			 sizeof *out->m);
	out->visit = xcalloc((size_t)(out->nvisit ? out->nvisit : 1), sizeof *out->visit);
	for (int s = 0; s < S; s++)
		out->statics += slots[s];
	for (int t = 0; t < K; t++) {
		const float *a = slots + S + (size_t)t * F;
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
	free(v->attn);
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
	if (v->attn) {
		cJSON_AddItemToObject(j, "attention", cJSON_CreateFloatArray(v->attn, v->nvisit));
		cJSON_AddNumberToObject(j, "attention_top", v->attn_top);
		cJSON_AddNumberToObject(j, "attention_padded", (double)v->attn_padded);
	}
	return j;
}
