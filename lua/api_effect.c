/* api_effect.c: lumen.effect{model = NAME [, arm = ARM] [, by = COL] [, explain = true]
 * [, top = N] [, patient = ID]} — a treatment-effect model's stored evaluation, its patients ranked by
 * predicted benefit, and on request the benefit by group and the importance of the effect
 * modifiers: the numbers of lumen models, lumen audit and lumen explain (src/ops/ops_effect.c),
 * read-only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lua.h>

#include "../src/nn/effmodel.h"
#include "../src/ops/ops_effect.h"
#include "hostint.h"

typedef struct ranked {
	double benefit;
	long k;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->benefit != y->benefit)
		return x->benefit > y->benefit ? -1 : 1;
	return (x->k > y->k) - (x->k < y->k);
}

static const char *opt_string(lua_State *L, const char *key)
{
	int t = lua_getfield(L, 1, key);
	const char *s = NULL;
	if (t == LUA_TSTRING)
		s = lua_tostring(L, -1);
	else if (t != LUA_TNIL)
		luaL_error(L, "lumen.effect: %s must be a string", key);
	lua_pop(L, 1); /* the string stays alive in the options table */
	return s;
}

int host_l_effect(lua_State *L)
{
	host *h = host_of(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	static const char *const ok[] = {"model", "arm", "by", "explain", "top", "patient"};
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		size_t i;
		for (i = 0; i < LM_ARRAY_LEN(ok); i++)
			if (lua_type(L, -2) == LUA_TSTRING && !strcmp(lua_tostring(L, -2), ok[i]))
				break;
		if (i == LM_ARRAY_LEN(ok))
			return luaL_error(L, "lumen.effect: unknown option '%s'", lua_type(L, -2) ==
					  LUA_TSTRING ? lua_tostring(L, -2) : "?");
		lua_pop(L, 1);
	}
	const char *name = opt_string(L, "model"), *arm = opt_string(L, "arm");
	const char *by = opt_string(L, "by"), *patient = opt_string(L, "patient");
	if (!name)
		return luaL_error(L, "lumen.effect: model = NAME is required");
	lua_getfield(L, 1, "explain");
	int explain = lua_toboolean(L, -1);
	lua_pop(L, 1);
	lua_getfield(L, 1, "top");
	lua_Integer top = lua_isnil(L, -1) ? 10 : luaL_checkinteger(L, -1);
	lua_pop(L, 1);
	if (top < 0 || top > 100000)
		return luaL_error(L, "lumen.effect: top must be 0 to 100000");
	lm_err err = {0};
	effm *e = effm_load(h->db, name, &err);
	if (!e)
		return luaL_error(L, "lumen.effect: %s", err.msg);
	int a = ops_effect_arm(e, arm, &err);
	cJSON *out = NULL;
	if (a < 0)
		goto fail;
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "model", e->base->name);
	cJSON_AddStringToObject(out, "column", e->column);
	cJSON_AddStringToObject(out, "reference", e->arm[0]);
	cJSON_AddStringToObject(out, "arm", e->arm[a]);
	cJSON_AddStringToObject(out, "learner", e->learner == EFFM_DR ? "dr" : "t");
	cJSON *arms = cJSON_AddArrayToObject(out, "arms");
	for (int k = 0; k < e->narm; k++)
		cJSON_AddItemToArray(arms, cJSON_CreateString(e->arm[k]));
	cJSON *mj = cJSON_Parse(e->base->metrics_json ? e->base->metrics_json : "");
	cJSON *ev = cJSON_DetachItemFromObjectCaseSensitive(mj, "effect");
	cJSON_Delete(mj);
	/* this arm's evaluation (a crafted file's metrics may lack any part of it) */
	const cJSON *ea = cJSON_GetObjectItemCaseSensitive(ev, "arms");
	for (const cJSON *ax = cJSON_IsArray(ea) ? ea->child : NULL; ax; ax = ax->next) {
		const cJSON *an = cJSON_GetObjectItemCaseSensitive(ax, "arm");
		if (cJSON_IsString(an) && !strcmp(an->valuestring, e->arm[a])) {
			cJSON_AddItemToObject(out, "evaluation", cJSON_Duplicate(ax, 1));
			break;
		}
	}
	cJSON *ov = cJSON_DetachItemFromObjectCaseSensitive(ev, "overlap");
	if (ov)
		cJSON_AddItemToObject(out, "overlap", ov);
	cJSON_Delete(ev);
	effm_stored s;
	if (effm_stored_load(h->db, e, &s, &err))
		goto fail;
	ranked *r = malloc((size_t)(s.n ? s.n : 1) * sizeof *r);
	if (!r) {
		effm_stored_free(&s);
		lm_seterr(&err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	for (long k = 0; k < s.n; k++) {
		r[k].benefit = -s.effect[(size_t)k * (size_t)e->narm + (size_t)a];
		r[k].k = k;
	}
	qsort(r, (size_t)s.n, sizeof *r, cmp_ranked);
	cJSON_AddNumberToObject(out, "patients", (double)s.n);
	cJSON *tp = cJSON_AddArrayToObject(out, "top");
	for (long q = 0; q < s.n && q < top; q++) {
		long k = r[q].k;
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "rowid", (double)s.patient[k]);
		cJSON_AddNumberToObject(x, "benefit", r[q].benefit);
		cJSON *p = cJSON_AddObjectToObject(x, "p");
		for (int b = 0; b < e->narm; b++)
			cJSON_AddNumberToObject(p, e->arm[b], s.p[(size_t)k * (size_t)e->narm + (size_t)b]);
		cJSON_AddItemToArray(tp, x);
	}
	free(r);
	effm_stored_free(&s);
	if (by) {
		ops_effect_groups g;
		if (ops_effect_groups_run(h->db, e, a, by, &g, &err))
			goto fail;
		cJSON *gj = ops_effect_groups_json(&g, e);
		cJSON_AddItemToObject(out, "groups", cJSON_DetachItemFromObjectCaseSensitive(gj, "groups"));
		cJSON_Delete(gj);
		ops_effect_groups_free(&g);
	}
	if (patient) { /* one patient's view: the risks, the benefit and its reasons */
		ig_inputs in;
		if (ig_inputs_load(h->db, e->base, &in, &err))
			goto fail;
		long row = ig_inputs_find(&in, patient);
		ops_effect_patient pv;
		int st = row < 0 ? lm_seterr(&err, EX_DATAERR, "no patient with id '%s'", patient)
				 : ops_effect_patient_load(h->db, e, &in, row, a, NULL, &pv, &err);
		ig_inputs_free(&in);
		if (st)
			goto fail;
		cJSON *pj = ops_effect_patient_json(&pv, e);
		cJSON_AddStringToObject(pj, "id", patient);
		cJSON_AddItemToObject(out, "patient", pj);
		ops_effect_patient_free(&pv);
	}
	if (explain) {
		ig_inputs in;
		if (ig_inputs_load(h->db, e->base, &in, &err))
			goto fail;
		ops_effect_explain x;
		int st = ops_effect_explain_run(h->db, e, &in, a, NULL, 0, &x, &err);
		ig_inputs_free(&in);
		if (st)
			goto fail;
		cJSON *xj = ops_effect_explain_json(&x, e);
		cJSON_AddItemToObject(out, "importance", cJSON_DetachItemFromObjectCaseSensitive(xj, "importance"));
		cJSON_AddStringToObject(out, "explained", x.quantity);
		cJSON_AddNumberToObject(out, "max_delta", x.max_delta);
		cJSON_Delete(xj);
		ops_effect_explain_free(&x);
	}
	effm_free(e);
	host_check_deadline(L);
	host_push_json(L, out);
	cJSON_Delete(out);
	return 1;
fail:
	cJSON_Delete(out);
	effm_free(e);
	return luaL_error(L, "lumen.effect: %s", err.msg);
}
