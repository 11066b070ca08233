/* effmodel.c: stored treatment-effect models (effmodel.h). */
#include "effmodel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int effm_is_effect(const model *m)
{
	return m && m->task && !strcmp(m->task, "effect");
}

int effm_member(int net, int k)
{
	return net == 0 ? k : net * 1000 + k;
}

static int arm_n_out(const effm *e) { return e->narm == 2 ? 1 : e->narm; }

void effm_free(effm *e)
{
	if (!e)
		return;
	for (int j = 0; e->net && j < e->nnet; j++) {
		for (int k = 0; j > 0 && k <= e->nfold; k++)
			nn_free(e->net[j][k]);
		free(e->net[j]);
	}
	free(e->net);
	for (int a = 0; a < e->narm; a++)
		free(e->arm[a]);
	free(e->arm);
	free(e->column);
	model_free(e->base);
	free(e);
}

/* Fills nm from member `member`'s tensors (names and sizes checked, values finite).
 * 0, -1 when the member has no tensors, or EX_DATAERR. */
static int load_net(sqlite3 *db, long id, int member, nn_model *nm, lm_err *err)
{
	sqlite3_stmt *st = store_prepare(
		db, "SELECT name, data FROM model_tensors WHERE model_id = ? AND member = ?", err);
	if (!st)
		return err ? err->status : EX_SOFTWARE;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, member);
	int nt = nn_ntensors(nm), found = 0, rows = 0, status = 0;
	while (!status && sqlite3_step(st) == SQLITE_ROW) {
		rows++;
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const void *data = sqlite3_column_blob(st, 1);
		size_t bytes = (size_t)sqlite3_column_bytes(st, 1);
		int i;
		for (i = 0; name && i < nt && strcmp(nn_tensor_name(nm, i), name); i++)
			;
		if (!name || i == nt || bytes != nn_tensor_size(nm, i) * sizeof(float)) {
			status = lm_seterr(err, EX_DATAERR, "model %ld: member %d's tensor %s does not fit"
					   " its network", id, member, name ? name : "?");
			break;
		}
		float *w = nn_tensor_data(nm, i);
		memcpy(w, data, bytes);
		for (size_t j = 0; j < bytes / sizeof(float); j++)
			if (!isfinite(w[j])) {
				status = lm_seterr(err, EX_DATAERR, "model %ld: tensor %s holds %g (a crafted"
						   " or damaged file)", id, name, (double)w[j]);
				break;
			}
		found++;
	}
	sqlite3_finalize(st);
	if (status)
		return status;
	if (!rows)
		return -1;
	if (found != nt)
		return lm_seterr(err, EX_DATAERR, "model %ld: member %d has %d of its %d tensors", id,
				 member, found, nt);
	return 0;
}

static int read_hyper(effm *e, lm_err *err)
{
	cJSON *h = cJSON_Parse(e->base->hyper_json ? e->base->hyper_json : "");
	const cJSON *ef = cJSON_GetObjectItemCaseSensitive(h, "effect");
	const cJSON *col = cJSON_GetObjectItemCaseSensitive(ef, "column");
	const cJSON *arms = cJSON_GetObjectItemCaseSensitive(ef, "arms");
	const cJSON *lr = cJSON_GetObjectItemCaseSensitive(ef, "learner");
	int n = cJSON_IsArray(arms) ? cJSON_GetArraySize(arms) : 0;
	int ok = cJSON_IsString(col) && cJSON_IsString(lr) && n >= 2 && n <= 64 &&
		 (!strcmp(lr->valuestring, "t") || !strcmp(lr->valuestring, "dr"));
	if (ok) {
		e->column = xstrdup(col->valuestring);
		e->learner = !strcmp(lr->valuestring, "dr") ? EFFM_DR : EFFM_T;
		e->arm = xcalloc((size_t)n, sizeof *e->arm);
		const cJSON *a;
		cJSON_ArrayForEach(a, arms)
		{
			if (!cJSON_IsString(a)) {
				ok = 0;
				break;
			}
			e->arm[e->narm++] = xstrdup(a->valuestring);
		}
	}
	cJSON_Delete(h);
	if (!ok)
		return lm_seterr(err, EX_DATAERR, "model '%s': its effect description is not readable",
				 e->base->name);
	return 0;
}

effm *effm_from_model(sqlite3 *db, model *m, lm_err *err)
{
	if (!effm_is_effect(m)) {
		lm_seterr(err, EX_DATAERR, "model '%s' is not a treatment-effect model (lumen train"
			  " --effect COL makes one)", m ? m->name : "?");
		model_free(m);
		return NULL;
	}
	effm *e = xcalloc(1, sizeof *e);
	e->base = m;
	e->nfold = m->nfold;
	if (read_hyper(e, err)) {
		effm_free(e);
		return NULL;
	}
	e->nnet = e->learner == EFFM_DR ? 2 * e->narm : e->narm;
	e->net = xcalloc((size_t)e->nnet, sizeof *e->net);
	nn_spec os = *nn_get_spec(m->final), ps;
	nn_spec_defaults(&ps, NN_LOGREG, m->spec.nslot, arm_n_out(e));
	for (int j = 0; j < e->nnet; j++) {
		e->net[j] = xcalloc((size_t)e->nfold + 1, sizeof **e->net);
		for (int k = 0; k <= e->nfold; k++) {
			if (j == 0) { /* the reference arm: base's own networks */
				e->net[0][k] = k < e->nfold ? m->fold[k] : m->final;
				continue;
			}
			nn_model *nm = nn_create(j == e->narm ? &ps : &os, 0, err);
			if (!nm) {
				effm_free(e);
				return NULL;
			}
			e->net[j][k] = nm;
			int st = load_net(db, m->id, effm_member(j, k < e->nfold ? k : -1), nm, err);
			if (st) {
				if (st < 0)
					lm_seterr(err, EX_DATAERR, "model '%s': network %d (%s) has no %s weights",
						  m->name, j, j < e->narm ? "outcome" : j == e->narm ? "propensity" :
						  "effect", k < e->nfold ? "fold" : "final");
				effm_free(e);
				return NULL;
			}
		}
	}
	return e;
}

effm *effm_load(sqlite3 *db, const char *name, lm_err *err)
{
	model *m = model_load(db, name, err);
	if (!m)
		return NULL;
	return effm_from_model(db, m, err);
}

static int slot_of(const effm *e, int k)
{
	return k < 0 || k >= e->nfold ? e->nfold : k;
}

nn_model *effm_outcome_net(effm *e, int a, int k)
{
	return a >= 0 && a < e->narm ? e->net[a][slot_of(e, k)] : NULL;
}

nn_model *effm_effect_net(effm *e, int a, int k)
{
	if (e->learner != EFFM_DR || a < 1 || a >= e->narm)
		return NULL;
	return e->net[e->narm + a][slot_of(e, k)];
}

void effm_predict(effm *e, int k, const float *X, long n, double *p, float *logit, double *eff)
{
	int A = e->narm;
	float *z = xmallocarray((size_t)(n ? n : 1), sizeof *z);
	double *q = xmallocarray((size_t)(n ? n : 1), sizeof *q);
	for (int a = 0; a < A; a++) {
		nn_logits(effm_outcome_net(e, a, k), X, n, z);
		nn_probs(z, n, 1, q);
		for (long i = 0; i < n; i++) {
			p[(size_t)i * (size_t)A + (size_t)a] = q[i];
			if (logit)
				logit[(size_t)i * (size_t)A + (size_t)a] = z[i];
		}
	}
	for (int a = 0; eff && a < A; a++) {
		nn_model *en = effm_effect_net(e, a, k);
		if (en)
			nn_logits(en, X, n, z);
		for (long i = 0; i < n; i++) {
			size_t c = (size_t)i * (size_t)A;
			eff[c + (size_t)a] = a == 0 ? 0 : en ? (double)z[i] : p[c + (size_t)a] - p[c];
		}
	}
	free(z);
	free(q);
}

static char *shape_text(const nn_model *nm, int i)
{
	int shape[4];
	int r = nn_tensor_shape(nm, i, shape);
	lm_buf b = {0};
	for (int d = 0; d < r; d++)
		buf_printf(&b, d ? "x%d" : "%d", shape[d]);
	if (!b.data)
		buf_puts(&b, "1");
	return b.data;
}

int effm_save_net(sqlite3 *db, long model_id, int net, int k, nn_model *nm, lm_err *err)
{
	sqlite3_stmt *ins = store_prepare(db,
					  "INSERT INTO model_tensors(model_id, member, name, shape, data)"
					  " VALUES(?, ?, ?, ?, ?)",
					  err);
	if (!ins)
		return err ? err->status : EX_SOFTWARE;
	int st = 0;
	for (int i = 0; i < nn_ntensors(nm) && !st; i++) {
		char *shape = shape_text(nm, i);
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, model_id);
		sqlite3_bind_int(ins, 2, effm_member(net, k));
		sqlite3_bind_text(ins, 3, nn_tensor_name(nm, i), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 4, shape, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob64(ins, 5, nn_tensor_data(nm, i),
				    (sqlite3_uint64)(nn_tensor_size(nm, i) * sizeof(float)), SQLITE_STATIC);
		int rc = sqlite3_step(ins);
		if (rc != SQLITE_DONE)
			st = lm_seterr(err, store_status(rc), "saving an effect network: %s",
				       sqlite3_errmsg(db));
		free(shape);
	}
	sqlite3_finalize(ins);
	return st;
}

int effm_effects_table(sqlite3 *db, long model_id, lm_err *err)
{
	int st = store_exec(db,
			    "CREATE TABLE IF NOT EXISTS effects(model_id INTEGER NOT NULL REFERENCES"
			    " models(id) ON DELETE CASCADE, patient INTEGER NOT NULL, arm TEXT NOT NULL,"
			    " fold INTEGER, p REAL, p_sd REAL, logit REAL, effect REAL, effect_sd REAL,"
			    " PRIMARY KEY(model_id, patient, arm))",
			    err);
	if (st)
		return st;
	sqlite3_stmt *d = store_prepare(db, "DELETE FROM effects WHERE model_id = ?", err);
	if (!d)
		return err ? err->status : EX_SOFTWARE;
	sqlite3_bind_int64(d, 1, model_id);
	int rc = sqlite3_step(d);
	sqlite3_finalize(d);
	if (rc != SQLITE_DONE)
		return lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
	return 0;
}

int effm_stored_load(sqlite3 *db, const effm *e, effm_stored *s, lm_err *err)
{
	memset(s, 0, sizeof *s);
	s->narm = e->narm;
	if (!store_has_table(db, "effects"))
		return lm_seterr(err, EX_DATAERR, "model '%s': the file has no table effects (a damaged"
				 " file)", e->base->name);
	sqlite3_stmt *st = store_prepare(db,
					 "SELECT patient, arm, fold, p, p_sd, effect, effect_sd FROM effects"
					 " WHERE model_id = ? ORDER BY patient",
					 err);
	if (!st)
		return err ? err->status : EX_SOFTWARE;
	sqlite3_bind_int64(st, 1, e->base->id);
	long cap = 0;
	int rc, A = e->narm;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long pat = (long)sqlite3_column_int64(st, 0);
		const char *arm = (const char *)sqlite3_column_text(st, 1);
		int a;
		for (a = 0; arm && a < A && strcmp(e->arm[a], arm); a++)
			;
		if (!arm || a == A)
			continue;
		if (s->n == 0 || s->patient[s->n - 1] != pat) {
			if (s->n == cap) {
				cap = cap ? 2 * cap : 256;
				s->patient = xreallocarray(s->patient, (size_t)cap, sizeof *s->patient);
				s->fold = xreallocarray(s->fold, (size_t)cap, sizeof *s->fold);
				double **arr[] = {&s->p, &s->p_sd, &s->effect, &s->effect_sd};
				for (size_t j = 0; j < LM_ARRAY_LEN(arr); j++)
					*arr[j] = xreallocarray(*arr[j], (size_t)cap * (size_t)A, sizeof **arr[j]);
			}
			s->patient[s->n] = pat;
			s->fold[s->n] = sqlite3_column_int(st, 2);
			for (int b = 0; b < A; b++) {
				size_t c = (size_t)s->n * (size_t)A + (size_t)b;
				s->p[c] = s->p_sd[c] = s->effect[c] = s->effect_sd[c] = NAN;
			}
			s->n++;
		}
		size_t c = (size_t)(s->n - 1) * (size_t)A + (size_t)a;
		double *dst[] = {&s->p[c], &s->p_sd[c], &s->effect[c], &s->effect_sd[c]};
		for (int j = 0; j < 4; j++)
			*dst[j] = sqlite3_column_type(st, 3 + j) == SQLITE_NULL ? (double)NAN
									     : sqlite3_column_double(st, 3 + j);
		/* what lumen wrote: a risk in [0, 1], finite effects and spreads */
		if (!(s->p[c] >= 0 && s->p[c] <= 1) || !isfinite(s->effect[c]) ||
		    !(s->p_sd[c] >= 0) || !(s->effect_sd[c] >= 0)) {
			sqlite3_finalize(st);
			long pat_bad = pat;
			effm_stored_free(s);
			return lm_seterr(err, EX_DATAERR, "model '%s': the stored effects of patient %ld"
					 " are not a risk and an effect (a crafted or damaged file)",
					 e->base->name, pat_bad);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		effm_stored_free(s);
		return lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
	}
	return 0;
}

long effm_stored_find(const effm_stored *s, long patient)
{
	long lo = 0, hi = s->n - 1;
	while (lo <= hi) {
		long mid = lo + (hi - lo) / 2;
		if (s->patient[mid] == patient)
			return mid;
		if (s->patient[mid] < patient)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

void effm_stored_free(effm_stored *s)
{
	free(s->patient);
	free(s->fold);
	free(s->p);
	free(s->p_sd);
	free(s->effect);
	free(s->effect_sd);
	memset(s, 0, sizeof *s);
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

void effm_print_summary(FILE *out, const cJSON *metrics)
{
	const cJSON *ef = cJSON_GetObjectItemCaseSensitive(metrics, "effect");
	if (!cJSON_IsObject(ef))
		return;
	const cJSON *lr = cJSON_GetObjectItemCaseSensitive(ef, "learner");
	const cJSON *col = cJSON_GetObjectItemCaseSensitive(ef, "column");
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(ef, "reference");
	fprintf(out, "  effect of %s against %s (%s-learner), out of fold:\n",
		cJSON_IsString(col) ? col->valuestring : "?",
		cJSON_IsString(ref) ? ref->valuestring : "?",
		cJSON_IsString(lr) && !strcmp(lr->valuestring, "dr") ? "DR" : "T");
	fprintf(out, "    %-12s %6s %24s %10s %10s %9s %8s\n", "ARM", "N", "ATE (95% CI)",
		"PREDICTED", "QINI AREA", "CAL SLOPE", "MAX SMD");
	const cJSON *arms = cJSON_GetObjectItemCaseSensitive(ef, "arms"), *a;
	cJSON_ArrayForEach(a, arms)
	{
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(a, "arm");
		const cJSON *ate = cJSON_GetObjectItemCaseSensitive(a, "ate");
		const cJSON *cal = cJSON_GetObjectItemCaseSensitive(a, "calibration");
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(a, "curves");
		const cJSON *bal = cJSON_GetObjectItemCaseSensitive(a, "balance");
		char ci[64];
		snprintf(ci, sizeof ci, "%+.3f (%+.3f, %+.3f)", num(ate, "observed"), num(ate, "lo"),
			 num(ate, "hi"));
		fprintf(out, "    %-12s %6.0f %24s %+10.3f %+10.4f %9.2f %8.2f\n",
			cJSON_IsString(nm) ? nm->valuestring : "?", num(a, "n"), ci,
			num(ate, "predicted"), num(q, "qini_area"), num(cal, "slope"),
			num(bal, "max_abs_smd"));
		const cJSON *aipw = cJSON_GetObjectItemCaseSensitive(ate, "aipw");
		const cJSON *cdr = cJSON_GetObjectItemCaseSensitive(a, "calibration_dr");
		if (cJSON_IsObject(aipw))
			fprintf(out, "    %-12s %6s %+.3f (%+.3f, %+.3f) doubly robust; calibration slope "
				"against the pseudo-outcomes %.2f\n", "", "", num(aipw, "estimate"),
				num(aipw, "lo"), num(aipw, "hi"), num(cdr, "slope"));
	}
	const cJSON *ov = cJSON_GetObjectItemCaseSensitive(ef, "overlap");
	if (cJSON_IsObject(ov))
		fprintf(out, "    propensity outside [0.05, 0.95]: %.1f%% of patients\n",
			100 * num(ov, "share_outside"));
}
