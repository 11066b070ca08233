/* ops_patient.c: one patient's view — values, cohort percentiles, the risk and its reasons,
 * what-if — for the TUI's Patient screen, `lumen explain --patient` and Lua.
 *
 * The number shown is the number explained (ops.h): a patient with a stored out-of-fold
 * prediction is explained with the fold model that held it out (encoded with that fold's
 * input statistics, against the same raw baseline patient mapped into them), so that its
 * risk is the stored p and baseline + sum of attributions is that p's logit (up to the
 * completeness error); any other patient, or a model without stored fold models, with the
 * final model. What-if keeps the network of the view it starts from. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../explain/attention.h"
#include "../data/labels.h"
#include "../data/visits_enc.h"
#include "ops.h"

nn_model *ops_net_for(model *m, int fold, const enc_value *vals, const float *base,
		      float *x, float *base_out)
{
	int use_fold = fold >= 0 && fold < m->nfold && m->fold && m->fold[fold] && m->fold_spec;
	const enc_spec *sp = use_fold ? &m->fold_spec[fold] : &m->spec;
	if (vals)
		enc_values(sp, vals, x);
	if (base && base_out) {
		for (int s = 0; s < m->spec.nslot; s++) {
			const enc_slot *f = &m->spec.slot[s], *k = &sp->slot[s];
			double v = (double)base[s];
			if (!use_fold) {
				base_out[s] = base[s];
			} else if (f->kind == SLOT_NUMERIC ||
				   (f->kind == SLOT_VISIT && strcmp(f->category, "missing") &&
				    strcmp(f->category, "present"))) {
				/* (a visit's lab value or time gap is standardised like a number) */
				/* the same raw value, standardised with the fold's statistics */
				double raw = v * f->scale + f->center;
				base_out[s] = k->scale > 0 ? (float)((raw - k->center) / k->scale) : 0.0f;
			} else {
				base_out[s] = k->scale == 0 ? 0.0f : base[s];
			}
		}
	}
	return use_fold ? m->fold[fold] : m->final;
}

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* H0(t): the final member's baseline cumulative hazard, a step function. */
static double base_cumhaz(const model *m, double t)
{
	double H = 0;
	for (long j = 0; j < m->surv_n && m->surv_time[j] <= t; j++)
		H = m->surv_cumhaz[j];
	return H;
}

double ops_risk_of_logit(const model *m, double logit)
{
	if (!m->surv_n)
		return sigmoid(logit);
	return 1 - exp(-base_cumhaz(m, m->surv_horizon) * exp(logit));
}

double ops_patient_risk_at(const ops_patient *pv, double t)
{
	const model *m = pv->m;
	if (!m || !m->surv_n)
		return NAN;
	double Hh = base_cumhaz(m, m->surv_horizon);
	if (!(Hh > 0) || !(pv->p < 1))
		return t < m->surv_horizon ? (double)NAN : pv->p;
	return 1 - pow(1 - pv->p, base_cumhaz(m, t) / Hh);
}

int ops_patient_curve(const ops_patient *pv, int n, double tmax, double *t, double *s)
{
	if (!pv->m || !pv->m->surv_n || n < 2)
		return -1;
	for (int k = 0; k < n; k++) {
		t[k] = tmax * k / (n - 1);
		s[k] = 1 - ops_patient_risk_at(pv, t[k]);
	}
	return 0;
}

int ops_patient_km(sqlite3 *db, const ops_patient *pv, ops_survival *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	if (!pv->m || !pv->m->surv_n || !pv->m->hyper_json)
		return lm_seterr(err, EX_DATAERR, "model '%s' is no survival model", pv->model);
	cJSON *h = cJSON_Parse(pv->m->hyper_json);
	const cJSON *tc = cJSON_GetObjectItemCaseSensitive(h, "time"),
		    *ec = cJSON_GetObjectItemCaseSensitive(h, "event"),
		    *ev = cJSON_GetObjectItemCaseSensitive(h, "event_value");
	int st;
	if (!cJSON_IsString(tc) || !cJSON_IsString(ec)) {
		st = lm_seterr(err, EX_DATAERR, "model '%s' does not name its time and event",
			       pv->model);
	} else {
		char *event = cJSON_IsString(ev) ? xasprintf("%s=%s", ec->valuestring, ev->valuestring)
						 : xstrdup(ec->valuestring);
		ops_survival_opts o = {.time = tc->valuestring, .event = event};
		st = ops_survival_run(db, &o, out, err);
		free(event);
	}
	cJSON_Delete(h);
	return st;
}

/* pv->outcome (ops_words.c): what the risk is of, in words. */
static void outcome_words(sqlite3 *db, ops_patient *pv)
{
	ops_model_outcome(db, pv->m->name, pv->outcome, sizeof pv->outcome);
}

const char *ops_patient_net_text(const ops_patient *pv, char *buf, size_t len)
{
	if (pv->net == OPS_NET_FOLD)
		snprintf(buf, len, "fold %d of %d (out-of-fold)", pv->fold + 1, pv->m ? pv->m->nfold : 0);
	else
		snprintf(buf, len, "the final model (refit on all patients)");
	return buf;
}

static void ig_defaults(const model *m, ig_opts *o)
{
	ig_opts_defaults(o);
	o->steps = 16;
	o->auto_steps = 1;
	if (nn_get_spec(m->final)->arch == NN_MLP)
		o->rule = IG_EXACT;
}

int ops_patient_fold(sqlite3 *db, const model *m, long rowid)
{
	int fold;
	double y, p, sd;
	lm_err e = {0};
	if (ops_prediction_one(db, m->id, rowid, &fold, &y, &p, &sd, NULL, &e))
		return -1;
	return fold >= 0 && fold < m->nfold && m->fold ? fold : -1;
}

/* A survival model's fold risk by the horizon through the stored out-of-fold risk p0 at
 * logit l0 (the fold's own baseline hazard is not stored): S(h | x') = S(h | x)^exp(lp' - lp),
 * so the unedited patient gets p0 back. */
static double fold_surv_risk(double p0, double l0, double logit)
{
	return 1 - pow(1 - p0, exp(logit - l0));
}

int ops_predict_values(sqlite3 *db, model *m, long rowid, const enc_value *vals, double *p,
		       double *logit, int *fold_used, lm_err *err)
{
	int fold = -1;
	double y = NAN, p0 = NAN, sd = NAN, l0 = NAN;
	if (rowid >= 0) {
		int st = ops_prediction_one(db, m->id, rowid, &fold, &y, &p0, &sd, &l0, err);
		if (st)
			return st;
		if (!(fold >= 0 && fold < m->nfold && m->fold))
			fold = -1;
	}
	float *x = xmallocarray((size_t)(m->spec.nslot ? m->spec.nslot : 1), sizeof *x);
	nn_model *net = ops_net_for(m, fold, vals, NULL, x, NULL);
	const nn_spec *sp = nn_get_spec(net);
	float *lg = xmallocarray((size_t)(sp->n_out > 0 ? sp->n_out : 1), sizeof *lg);
	nn_logits(net, x, 1, lg);
	*logit = (double)lg[sp->n_out > 1 ? 1 : 0];
	*p = ops_risk_of_logit(m, *logit); /* a survival model: the risk by its horizon */
	if (sp->n_out > 1) { /* softmax probability of class 1, as model_predict */
		double mx = (double)lg[0], z = 0;
		for (int k = 1; k < sp->n_out; k++)
			mx = fmax(mx, (double)lg[k]);
		for (int k = 0; k < sp->n_out; k++)
			z += exp((double)lg[k] - mx);
		*p = exp(*logit - mx) / z;
	} else if (m->surv_n && fold >= 0 && !isnan(p0) && !isnan(l0)) {
		*p = fold_surv_risk(p0, l0, *logit);
	}
	*fold_used = fold;
	free(x);
	free(lg);
	return 0;
}

float *ops_visit_weights(model *m, int fold, const enc_value *vals, int cls, int *K)
{
	*K = 0;
	if (!attn_over_visits(m->final)) /* the folds have the final network's architecture */
		return NULL;
	float *x = xmallocarray((size_t)(m->spec.nslot ? m->spec.nslot : 1), sizeof *x);
	nn_model *net = ops_net_for(m, fold, vals, NULL, x, NULL);
	int k = nn_get_spec(net)->seq_steps;
	float *w = xmallocarray((size_t)k, sizeof *w);
	lm_err e = {0};
	if (attn_visits(net, x, 1, 1, cls < 0 ? 0 : cls, w, NULL, &e) == 0) {
		*K = k;
	} else {
		free(w);
		w = NULL;
	}
	free(x);
	return w;
}

int ops_explain_values(model *m, int fold, const enc_value *vals, const float *base,
		       const enc_value *base_vals, const ig_opts *o, int cls, ig_explanation *out,
		       int *net_used, lm_err *err)
{
	memset(out, 0, sizeof *out);
	int ns = m->spec.nslot, nc = m->spec.ncolumn;
	ig_opts io;
	if (o)
		io = *o;
	else
		ig_defaults(m, &io);
	float *x = xmallocarray((size_t)(ns ? ns : 1), sizeof *x);
	float *b = xmallocarray((size_t)(ns ? ns : 1), sizeof *b);
	nn_model *net = ops_net_for(m, fold, vals, base, x, b);
	if (base_vals) /* the baseline patient, encoded as the patient is */
		ops_net_for(m, fold, base_vals, NULL, b, NULL);
	if (net_used)
		*net_used = net == m->final ? -1 : fold;
	const nn_spec *sp = nn_get_spec(net);
	float *lg = xmallocarray((size_t)(sp->n_out > 0 ? sp->n_out : 1), sizeof *lg);
	nn_logits(net, x, 1, lg);
	if (sp->n_out > 1) {
		if (cls < 0) {
			cls = 0;
			for (int k = 1; k < sp->n_out; k++)
				if (lg[k] > lg[cls])
					cls = k;
		}
	} else if (cls < 0) {
		cls = 1;
	}
	io.cls = cls;
	out->nslot = ns;
	out->ncolumn = nc;
	out->slots = xmallocarray((size_t)(ns ? ns : 1), sizeof(float));
	out->columns = xmallocarray((size_t)(nc ? nc : 1), sizeof(float));
	int st = ig_batch(net, x, 1, b, &io, out->slots, &out->logit, &out->baseline_logit,
			  &out->delta, &out->steps, NULL, NULL, err);
	if (!st) {
		enc_sum_to_columns(&m->spec, out->slots, out->columns);
		if (sp->n_out == 1) {
			out->prob = (float)ops_risk_of_logit(m, (double)out->logit);
		} else {
			double mx = (double)lg[0], z = 0;
			for (int k = 1; k < sp->n_out; k++)
				mx = fmax(mx, (double)lg[k]);
			for (int k = 0; k < sp->n_out; k++)
				z += exp((double)lg[k] - mx);
			out->prob = (float)(exp((double)lg[cls] - mx) / z);
		}
	} else {
		ig_explanation_free(out);
	}
	free(lg);
	free(x);
	free(b);
	return st;
}

/* Explains the current values v with the view's network; fills p, logit, the attributions of
 * every factor (by spec column) and the attention weights. */
static int explain_now(ops_patient *pv, double *attr, double *weight, lm_err *err)
{
	model *m = pv->m;
	int nc = m->spec.ncolumn, fold = pv->net == OPS_NET_FOLD ? pv->fold : -1;
	if (pv->cls < 0 && nn_get_spec(m->final)->n_out == 1)
		pv->cls = 1;
	ig_explanation ex;
	int st = ops_explain_values(m, fold, pv->v, pv->base, pv->bv, &pv->io, pv->cls, &ex, NULL,
				    err);
	if (st)
		return st;
	if (pv->cls < 0) { /* the predicted class, as ops_explain_values chose it */
		nn_model *net = fold >= 0 ? m->fold[fold] : m->final;
		int C = nn_get_spec(net)->n_out;
		float *x = xmallocarray((size_t)(m->spec.nslot ? m->spec.nslot : 1), sizeof *x);
		float *lg = xmallocarray((size_t)C, sizeof *lg);
		ops_net_for(m, fold, pv->v, NULL, x, NULL);
		nn_logits(net, x, 1, lg);
		pv->cls = 0;
		for (int k = 1; k < C; k++)
			if (lg[k] > lg[pv->cls])
				pv->cls = k;
		free(x);
		free(lg);
	}
	for (int j = 0; j < nc; j++) {
		attr[j] = (double)ex.columns[j];
		weight[j] = (double)NAN;
	}
	free(pv->slot_attr);
	pv->nslot_attr = ex.nslot;
	pv->slot_attr = xmallocarray((size_t)(ex.nslot ? ex.nslot : 1), sizeof *pv->slot_attr);
	memcpy(pv->slot_attr, ex.slots, (size_t)ex.nslot * sizeof *pv->slot_attr);
	pv->logit = (double)ex.logit;
	pv->baseline_logit = (double)ex.baseline_logit;
	pv->delta = (double)ex.delta;
	pv->steps = ex.steps;
	pv->p = (double)ex.prob;
	ig_explanation_free(&ex);
	if (m->surv_n && fold >= 0 && !isnan(pv->stored_p)) {
		/* a survival model's fold risk by the horizon, from the stored out-of-fold risk */
		double l0 = pv->edited ? pv->logit0 : pv->logit;
		pv->p = fold_surv_risk(pv->stored_p, l0, pv->logit);
	}
	nn_model *net = fold >= 0 ? m->fold[fold] : m->final;
	const nn_spec *sp = nn_get_spec(net);
	if (sp->arch == NN_TRANSFORMER && sp->n_tokens == nc) {
		float *x = xmallocarray((size_t)(m->spec.nslot ? m->spec.nslot : 1), sizeof *x);
		float *roll = xmallocarray((size_t)(nc ? nc : 1), sizeof *roll);
		ops_net_for(m, fold, pv->v, NULL, x, NULL);
		lm_err e2 = {0};
		if (attn_explain(net, x, 1, 1, NULL, NULL, roll, &e2) == 0)
			for (int j = 0; j < nc; j++)
				weight[j] = (double)roll[j];
		free(x);
		free(roll);
	}
	free(pv->vatt); /* the weights of the visit steps, for these values */
	pv->vatt = ops_visit_weights(m, fold, pv->v, pv->cls, &pv->nvatt);
	return 0;
}

static void value_text(const enc_value *v, col_type t, char *buf, size_t len)
{
	if (t == COL_TYPE_TEXT)
		snprintf(buf, len, "%s", v->text ? v->text : ".");
	else if (isnan(v->num))
		snprintf(buf, len, ".");
	else
		snprintf(buf, len, "%.15g", v->num);
}

/* The cohort's metadata of spec column j (labels, units, categories), or NULL. */
static const store_column *meta_of(const ops_patient *pv, int j)
{
	if (!pv->have_cohort)
		return NULL;
	int c = frame_find(&pv->cohort, pv->m->spec.columns[j]);
	return c >= 0 ? pv->cohort.col[c].meta : NULL;
}

/* A value as the screens show it (labels.h), or as stored when the column is unknown. */
static void shown_text(const ops_patient *pv, int j, const enc_value *v, char *buf, size_t len)
{
	const store_column *c = meta_of(pv, j);
	if (c)
		lbl_text(c, v->num, v->text, buf, len);
	else if (pv->m->spec.column_type[j] != COL_TYPE_TEXT && !isnan(v->num))
		lbl_num(v->num, 4, buf, len);
	else
		value_text(v, pv->m->spec.column_type[j], buf, len);
}

/* Where a value sits among the cohort's: mid-rank percentile of a number among the values
 * present; for a category the share of patients with it. */
static double percentile(const ops_patient *pv, int j, const enc_value *v, int *is_share)
{
	const model *m = pv->m;
	*is_share = m->spec.column_type[j] == COL_TYPE_TEXT;
	if (!pv->have_cohort)
		return (double)NAN;
	int c = frame_find(&pv->cohort, m->spec.columns[j]);
	if (c < 0)
		return (double)NAN;
	const frame_col *fc = &pv->cohort.col[c];
	long less = 0, eq = 0, tot = 0;
	if (!*is_share && lbl_is_category(fc->meta)) {
		/* a boolean or a coded category: the share with this value, no percentile */
		*is_share = 1;
		if (isnan(v->num))
			return (double)NAN;
		for (long i = 0; i < pv->cohort.nrow; i++)
			if (!isnan(fc->v[i])) {
				tot++;
				eq += fc->v[i] == v->num;
			}
		return tot ? 100.0 * (double)eq / (double)tot : (double)NAN;
	}
	if (*is_share) {
		if (!v->text)
			return (double)NAN;
		int cat = -1;
		for (int k = 0; k < fc->meta->ncat; k++)
			if (!strcmp(fc->meta->cats[k], v->text))
				cat = k;
		for (long i = 0; i < pv->cohort.nrow; i++) {
			if (isnan(fc->v[i]))
				continue;
			tot++;
			eq += (int)fc->v[i] == cat;
		}
		return tot ? 100.0 * (double)eq / (double)tot : (double)NAN;
	}
	if (isnan(v->num))
		return (double)NAN;
	for (long i = 0; i < pv->cohort.nrow; i++) {
		double u = fc->v[i];
		if (isnan(u))
			continue;
		tot++;
		if (u < v->num)
			less++;
		else if (u == v->num)
			eq++;
	}
	return tot ? 100.0 * ((double)less + 0.5 * (double)eq) / (double)tot : (double)NAN;
}

static int cmp_factor(const void *pa, const void *pb)
{
	const ops_factor *a = pa, *b = pb;
	double x = fabs(a->attr), y = fabs(b->attr);
	if (x != y)
		return (x < y) - (x > y);
	return (a->column > b->column) - (a->column < b->column);
}

/* (Re)builds the factor list from the current values and attributions. */
static void build_factors(ops_patient *pv, const double *attr, const double *weight,
			  const double *attr0)
{
	const model *m = pv->m;
	int nc = m->spec.ncolumn;
	int have_cols = pv->have_cohort;
	for (int i = 0; i < pv->nfactor; i++) {
		free(pv->f[i].name);
		free(pv->f[i].label);
	}
	free(pv->f);
	pv->f = xcalloc((size_t)(nc ? nc : 1), sizeof *pv->f);
	pv->nfactor = nc;
	for (int j = 0; j < nc; j++) {
		ops_factor *f = &pv->f[j];
		f->column = j;
		f->name = xstrdup(m->spec.columns[j]);
		const store_column *meta = have_cols ? meta_of(pv, j) : NULL;
		f->label = xstrdup(meta ? lbl_name(meta) : f->name);
		snprintf(f->unit, sizeof f->unit, "%s", meta && meta->unit ? meta->unit : "");
		shown_text(pv, j, &pv->v[j], f->value, sizeof f->value);
		value_text(&pv->v[j], m->spec.column_type[j], f->code, sizeof f->code);
		f->num = m->spec.column_type[j] == COL_TYPE_TEXT ? (double)NAN : pv->v[j].num;
		f->pct = percentile(pv, j, &pv->v[j], &f->is_share);
		if (j >= venc_static_columns(&m->spec)) { /* a lab over the visits the model read */
			const venc_visits *vv = pv->have_cohort ? pv->cohort.visits : NULL;
			long nv = vv && pv->rowid >= 1 && pv->rowid <= vv->maxrow
					  ? vv->start[pv->rowid + 1] - vv->start[pv->rowid] : 0;
			snprintf(f->value, sizeof f->value, "%ld visit%s", nv, nv == 1 ? "" : "s");
			f->pct = (double)NAN;
		}
		f->attr = attr[j];
		f->attr0 = attr0 ? attr0[j] : attr[j];
		f->weight = weight[j];
		char was[64];
		value_text(&pv->v0[j], m->spec.column_type[j], was, sizeof was);
		f->edited = strcmp(was, f->code) != 0;
	}
	qsort(pv->f, (size_t)nc, sizeof *pv->f, cmp_factor);
}

static int read_values(sqlite3 *db, ops_patient *pv, lm_err *err)
{
	const enc_spec *sp = &pv->m->spec;
	int nc = pv->ncol = sp->ncolumn;
	size_t n = (size_t)(nc ? nc : 1);
	pv->v = xcalloc(n, sizeof *pv->v);
	pv->v0 = xcalloc(n, sizeof *pv->v0);
	pv->vt = xcalloc(n, sizeof *pv->vt);
	pv->vt0 = xcalloc(n, sizeof *pv->vt0);
	lm_buf sql = {0};
	buf_puts(&sql, "SELECT rowid");
	int nstatic = venc_static_columns(sp); /* the rest: the patient's visits */
	for (int j = 0; j < nstatic; j++) {
		char *q = sqlite3_mprintf(", \"%w\"", sp->columns[j]);
		buf_puts(&sql, q);
		sqlite3_free(q);
	}
	buf_puts(&sql, " FROM patients WHERE rowid = ?");
	sqlite3_stmt *st = store_prepare(db, sql.data, err);
	buf_free(&sql);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, pv->rowid);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return lm_seterr(err, EX_DATAERR, "no patient with rowid %ld", pv->rowid);
	}
	for (int j = 0; j < nc; j++) {
		int null = j >= nstatic || sqlite3_column_type(st, j + 1) == SQLITE_NULL;
		pv->v0[j].num = (double)NAN;
		if (j >= nstatic) {
			pv->v0[j].visits = pv->have_cohort ? pv->cohort.visits : NULL;
			pv->v0[j].rowid = pv->rowid;
		}
		if (sp->column_type[j] == COL_TYPE_TEXT) {
			if (!null)
				pv->vt0[j] = xstrdup((const char *)sqlite3_column_text(st, j + 1));
		} else if (!null) {
			pv->v0[j].num = sqlite3_column_double(st, j + 1);
		}
		pv->v0[j].text = pv->vt0[j];
		pv->v[j] = pv->v0[j];
		pv->vt[j] = pv->vt0[j] ? xstrdup(pv->vt0[j]) : NULL;
		pv->v[j].text = pv->vt[j];
	}
	sqlite3_finalize(st);
	return 0;
}

/* The raw values (spec columns) of the patient whose id-column text is id (the rowid when
 * the file has no id column), for a patient:ID baseline. 0 or EX_DATAERR. */
static int baseline_values(sqlite3 *db, ops_patient *pv, const char *id, lm_err *err)
{
	store_columns cols;
	if (store_columns_load(db, "patients", &cols, err))
		return err->status;
	int k = store_columns_role(&cols, COL_ROLE_ID);
	char *q = k >= 0 ? sqlite3_mprintf("SELECT rowid FROM patients WHERE CAST(\"%w\" AS TEXT) = ?",
					   cols.c[k].name)
			 : sqlite3_mprintf("SELECT rowid FROM patients WHERE rowid = CAST(? AS INTEGER)");
	store_columns_free(&cols);
	sqlite3_stmt *st = store_prepare(db, q, err);
	sqlite3_free(q);
	if (!st)
		return err->status;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	long rowid = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	if (rowid < 0)
		return lm_seterr(err, EX_DATAERR, "no patient with id '%s'", id);
	ops_patient tmp = {.rowid = rowid, .m = pv->m};
	int rc = read_values(db, &tmp, err);
	pv->bv = tmp.v0;
	pv->bvt = tmp.vt0;
	for (int j = 0; j < tmp.ncol; j++)
		free(tmp.vt[j]);
	free(tmp.vt);
	free(tmp.v);
	return rc;
}

static void read_id(sqlite3 *db, ops_patient *pv)
{
	snprintf(pv->id, sizeof pv->id, "%ld", pv->rowid);
	store_columns cols;
	if (store_columns_load(db, "patients", &cols, NULL))
		return;
	int k = store_columns_role(&cols, COL_ROLE_ID);
	if (k >= 0) {
		char *q = sqlite3_mprintf("SELECT \"%w\" FROM patients WHERE rowid = ?", cols.c[k].name);
		sqlite3_stmt *st = store_prepare(db, q, NULL);
		sqlite3_free(q);
		if (st) {
			sqlite3_bind_int64(st, 1, pv->rowid);
			if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
				snprintf(pv->id, sizeof pv->id, "%s", (const char *)sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
	}
	store_columns_free(&cols);
}

int ops_patient_load(sqlite3 *db, const ops_patient_opts *o, ops_patient *pv, lm_err *err)
{
	memset(pv, 0, sizeof *pv);
	pv->rowid = o->rowid;
	pv->fold = -1;
	pv->cls = o->cls;
	ops_patient *prev = o->prev;
	if (prev && prev->m && !strcmp(prev->m->name, o->model)) {
		/* the same model: take over what does not depend on the patient */
		pv->m = prev->m, prev->m = NULL;
		pv->base = prev->base, prev->base = NULL;
		if (prev->have_cohort) {
			pv->cohort = prev->cohort;
			pv->have_cohort = 1;
			prev->have_cohort = 0;
		}
		snprintf(pv->baseline, sizeof pv->baseline, "%s", prev->baseline);
	}
	if (!pv->m && !(pv->m = model_load(db, o->model, err)))
		return err->status ? err->status : EX_DATAERR;
	model *m = pv->m;
	pv->model = xstrdup(m->name);
	pv->arch = xstrdup(m->arch ? m->arch : "");
	pv->target = xstrdup(m->target ? m->target : "");
	if (m->nclass > 2 || nn_get_spec(m->final)->n_out > 1) {
		if (pv->cls >= 0 && pv->cls >= m->nclass)
			return lm_seterr(err, EX_USAGE, "class %d out of range", pv->cls);
	} else {
		pv->cls = o->cls >= 0 ? o->cls : 1;
	}
	if (o->ig)
		pv->io = *o->ig;
	else
		ig_defaults(m, &pv->io);
	if (!pv->base) {
		ig_baseline mean = {.kind = IG_BASE_MEAN};
		const ig_baseline *b = o->baseline ? o->baseline : &mean;
		pv->base = xmallocarray((size_t)(m->spec.nslot ? m->spec.nslot : 1), sizeof *pv->base);
		int st = ig_baseline_compute(db, m, b, pv->base, err);
		if (st)
			return st;
		ig_baseline_text(b, pv->baseline, sizeof pv->baseline);
	}
	if (!pv->have_cohort) {
		if (frame_load(db, "patients", (const char *const *)m->spec.columns,
			       venc_static_columns(&m->spec), &pv->cohort, err))
			return err->status;
		int S, K, F;
		if (venc_geometry(&m->spec, &S, &K, &F) && venc_attach(db, &pv->cohort, err)) {
			frame_free(&pv->cohort);
			return err->status;
		}
		pv->have_cohort = 1;
	}
	int st = ops_prediction_one(db, m->id, pv->rowid, &pv->fold, &pv->y, &pv->stored_p,
				    &pv->p_sd, NULL, err);
	if (st)
		return st;
	pv->net = pv->fold >= 0 && pv->fold < m->nfold && m->fold ? OPS_NET_FOLD : OPS_NET_FINAL;
	if ((st = read_values(db, pv, err)))
		return st;
	if (o->baseline && o->baseline->kind == IG_BASE_PATIENT &&
	    (st = baseline_values(db, pv, o->baseline->patient, err)))
		return st;
	read_id(db, pv);
	outcome_words(db, pv);
	int nc = m->spec.ncolumn;
	double *attr = xmallocarray((size_t)(nc ? nc : 1), sizeof *attr);
	double *w = xmallocarray((size_t)(nc ? nc : 1), sizeof *w);
	st = explain_now(pv, attr, w, err);
	if (!st) {
		pv->p0 = pv->p, pv->logit0 = pv->logit;
		build_factors(pv, attr, w, NULL);
		if (pv->cls >= 0 && pv->cls < m->nclass)
			snprintf(pv->cls_name, sizeof pv->cls_name, "%s", m->classes[pv->cls]);
	}
	free(attr);
	free(w);
	return st;
}

/* Whether the cohort holds value (num, or text for a text column) in column c of the frame. */
static int cohort_has(const frame *f, int c, double num, const char *text)
{
	const frame_col *fc = &f->col[c];
	double want = num;
	if (fc->meta->type == COL_TYPE_TEXT) {
		want = (double)NAN;
		for (int k = 0; k < fc->meta->ncat; k++)
			if (!strcmp(fc->meta->cats[k], text))
				want = k;
		if (isnan(want))
			return 0;
	}
	for (long i = 0; i < f->nrow; i++)
		if (fc->v[i] == want)
			return 1;
	return 0;
}

/* "Treatment: D-penicillamine, placebo": the values a category column has, for a refusal. */
static void category_list(const frame *f, int c, char *buf, size_t len)
{
	const store_column *m = f->col[c].meta;
	lm_buf b = {0};
	if (m->type == COL_TYPE_TEXT) {
		for (int k = 0; k < m->ncat && k < 12; k++) {
			const char *l = lbl_value(m, NAN, m->cats[k]);
			buf_printf(&b, "%s%s", k ? ", " : "", l ? l : m->cats[k]);
		}
	} else if (m->nvl) {
		for (int k = 0; k < m->nvl; k++)
			buf_printf(&b, "%s%s (%s)", k ? ", " : "", m->vl[k].text, m->vl[k].code);
	} else {
		buf_puts(&b, "0 (no), 1 (yes)");
	}
	snprintf(buf, len, "%s", b.data ? b.data : "");
	buf_free(&b);
}

int ops_patient_whatif(ops_patient *pv, const char *col, const char *val, lm_err *err)
{
	const enc_spec *sp = &pv->m->spec;
	int j = -1;
	for (int k = 0; k < sp->ncolumn; k++)
		if (!strcmp(sp->columns[k], col))
			j = k;
	for (int k = 0; j < 0 && k < sp->ncolumn; k++) { /* or its label */
		const store_column *mc = meta_of(pv, k);
		if (mc && mc->label && !strcasecmp(mc->label, col))
			j = k;
	}
	if (j < 0)
		return lm_seterr(err, EX_DATAERR, "'%s' is not an input of model %s", col, pv->model);
	if (j >= venc_static_columns(sp))
		return lm_seterr(err, EX_DATAERR, "'%s' is read from the patient's visits; what-if "
				 "changes the patient's own values", col);
	const store_column *meta = meta_of(pv, j);
	int fc = pv->have_cohort ? frame_find(&pv->cohort, sp->columns[j]) : -1;
	double x = (double)NAN;
	char code[128];
	if (meta) {
		if (lbl_input(meta, val, &x, code, sizeof code))
			return lm_seterr(err, EX_DATAERR, "'%s' is not a number (%s)", val, lbl_name(meta));
	} else {
		snprintf(code, sizeof code, "%s", val);
		if (strcmp(val, ".") && sp->column_type[j] != COL_TYPE_TEXT && parse_double(val, &x))
			return lm_seterr(err, EX_DATAERR, "'%s' is not a number", val);
	}
	int missing = !strcmp(code, ".");
	pv->warn[0] = 0;
	if (!missing && meta && fc >= 0 && lbl_is_category(meta) &&
	    !cohort_has(&pv->cohort, fc, x, code)) {
		char list[400];
		category_list(&pv->cohort, fc, list, sizeof list);
		return lm_seterr(err, EX_DATAERR, "%s never has the value '%s' (it has: %s)",
				 lbl_name(meta), val, list);
	}
	if (!missing && meta && !lbl_is_category(meta) && !isnan(meta->min) &&
	    (x < meta->min || x > meta->max)) {
		char a[48], lo[48], hi[48];
		snprintf(pv->warn, sizeof pv->warn, "%s %s%s%s is outside the cohort's values (%s to %s%s%s)",
			 lbl_name(meta), lbl_num(x, 4, a, sizeof a), meta->unit ? " " : "",
			 meta->unit ? meta->unit : "", lbl_num(meta->min, 4, lo, sizeof lo),
			 lbl_num(meta->max, 4, hi, sizeof hi), meta->unit ? " " : "",
			 meta->unit ? meta->unit : "");
	}
	if (sp->column_type[j] == COL_TYPE_TEXT) {
		free(pv->vt[j]);
		pv->vt[j] = missing ? NULL : xstrdup(code);
		pv->v[j].text = pv->vt[j];
	} else {
		pv->v[j].num = missing ? (double)NAN : x;
	}
	int nc = sp->ncolumn;
	double *attr = xmallocarray((size_t)(nc ? nc : 1), sizeof *attr);
	double *w = xmallocarray((size_t)(nc ? nc : 1), sizeof *w);
	double *a0 = xmallocarray((size_t)(nc ? nc : 1), sizeof *a0);
	for (int i = 0; i < pv->nfactor; i++)
		a0[pv->f[i].column] = pv->edited ? pv->f[i].attr0 : pv->f[i].attr;
	int st = explain_now(pv, attr, w, err);
	if (!st) {
		pv->edited = 1;
		build_factors(pv, attr, w, a0);
		lm_buf d = {0};
		for (int k = 0; k < nc; k++) {
			char x0[64], x1[64];
			value_text(&pv->v0[k], sp->column_type[k], x0, sizeof x0);
			value_text(&pv->v[k], sp->column_type[k], x1, sizeof x1);
			if (!strcmp(x0, x1))
				continue;
			const store_column *mk = meta_of(pv, k);
			shown_text(pv, k, &pv->v0[k], x0, sizeof x0);
			shown_text(pv, k, &pv->v[k], x1, sizeof x1);
			buf_printf(&d, "%s%s %s -> %s%s%s", d.len ? ", " : "", mk ? lbl_name(mk) : sp->columns[k],
				   x0, x1, mk && mk->unit ? " " : "", mk && mk->unit ? mk->unit : "");
		}
		snprintf(pv->desc, sizeof pv->desc, "%s", d.len ? d.data : "no change");
		buf_free(&d);
	}
	free(attr);
	free(w);
	free(a0);
	return st;
}

int ops_patient_switch_arm(sqlite3 *db, ops_patient *pv, lm_err *err)
{
	store_columns cols;
	if (store_columns_load(db, "patients", &cols, err))
		return err->status;
	int k = store_columns_role(&cols, COL_ROLE_TREATMENT);
	const enc_spec *sp = &pv->m->spec;
	int j = -1;
	for (int q = 0; k >= 0 && q < sp->ncolumn; q++)
		if (!strcmp(sp->columns[q], cols.c[k].name))
			j = q;
	if (k < 0 || j < 0) {
		store_columns_free(&cols);
		return lm_seterr(err, EX_DATAERR, k < 0 ? "no treatment column (lumen import --treatment COL)"
							: "the treatment is not an input of this model");
	}
	char *q = sqlite3_mprintf("SELECT DISTINCT \"%w\" FROM patients WHERE \"%w\" IS NOT NULL"
				  " ORDER BY 1 LIMIT 50", cols.c[k].name, cols.c[k].name);
	sqlite3_stmt *st = store_prepare(db, q, err);
	sqlite3_free(q);
	char cur[64], first[64] = "", next[64] = "";
	value_text(&pv->v[j], sp->column_type[j], cur, sizeof cur);
	int seen = 0;
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		char v[64];
		if (sp->column_type[j] == COL_TYPE_TEXT)
			snprintf(v, sizeof v, "%s", (const char *)sqlite3_column_text(st, 0));
		else
			snprintf(v, sizeof v, "%.15g", sqlite3_column_double(st, 0));
		if (!first[0])
			snprintf(first, sizeof first, "%s", v);
		if (seen && !next[0])
			snprintf(next, sizeof next, "%s", v);
		if (!strcmp(v, cur))
			seen = 1;
	}
	sqlite3_finalize(st);
	int rc = first[0] ? ops_patient_whatif(pv, cols.c[k].name, next[0] ? next : first, err)
			  : lm_seterr(err, EX_DATAERR, "the treatment column has no values");
	store_columns_free(&cols);
	return rc;
}

void ops_patient_reset(ops_patient *pv)
{
	if (!pv->edited)
		return;
	for (int j = 0; j < pv->ncol; j++) {
		free(pv->vt[j]);
		pv->vt[j] = pv->vt0[j] ? xstrdup(pv->vt0[j]) : NULL;
		pv->v[j] = pv->v0[j];
		pv->v[j].text = pv->vt[j];
	}
	int nc = pv->ncol;
	double *attr = xmallocarray((size_t)(nc ? nc : 1), sizeof *attr);
	double *w = xmallocarray((size_t)(nc ? nc : 1), sizeof *w);
	lm_err e = {0};
	if (explain_now(pv, attr, w, &e) == 0)
		build_factors(pv, attr, w, NULL);
	pv->edited = 0;
	pv->desc[0] = 0;
	pv->warn[0] = 0;
	free(attr);
	free(w);
}

void ops_patient_free(ops_patient *pv)
{
	if (!pv)
		return;
	for (int i = 0; i < pv->nfactor; i++) {
		free(pv->f[i].name);
		free(pv->f[i].label);
	}
	free(pv->f);
	free(pv->model);
	free(pv->arch);
	free(pv->target);
	for (int j = 0; j < pv->ncol; j++) {
		free(pv->vt[j]);
		free(pv->vt0[j]);
	}
	free(pv->vt);
	free(pv->vt0);
	for (int j = 0; pv->bvt && j < pv->ncol; j++)
		free(pv->bvt[j]);
	free(pv->bvt);
	free(pv->bv);
	free(pv->v);
	free(pv->v0);
	free(pv->slot_attr);
	free(pv->vatt);
	if (pv->m)
		model_free(pv->m);
	free(pv->base);
	if (pv->have_cohort)
		frame_free(&pv->cohort);
	memset(pv, 0, sizeof *pv);
}

static void add_num(cJSON *o, const char *k, double v)
{
	if (isnan(v) || isinf(v))
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, v);
}

cJSON *ops_patient_json(const ops_patient *pv)
{
	cJSON *j = cJSON_CreateObject();
	char net[96];
	cJSON_AddStringToObject(j, "patient", pv->id);
	cJSON_AddNumberToObject(j, "rowid", (double)pv->rowid);
	cJSON_AddStringToObject(j, "model", pv->model ? pv->model : "");
	cJSON_AddStringToObject(j, "arch", pv->arch ? pv->arch : "");
	cJSON_AddStringToObject(j, "class", pv->cls_name);
	cJSON_AddStringToObject(j, "outcome", pv->outcome);
	cJSON_AddStringToObject(j, "network", pv->net == OPS_NET_FOLD ? "fold" : "final");
	if (pv->net == OPS_NET_FOLD)
		cJSON_AddNumberToObject(j, "fold", pv->fold);
	cJSON_AddStringToObject(j, "network_text", ops_patient_net_text(pv, net, sizeof net));
	add_num(j, "probability", pv->p);
	add_num(j, "logit", pv->logit);
	add_num(j, "stored_p", pv->stored_p);
	add_num(j, "p_sd", pv->p_sd);
	add_num(j, "y", pv->y);
	cJSON_AddStringToObject(j, "baseline", pv->baseline);
	add_num(j, "baseline_logit", pv->baseline_logit);
	double sum = 0;
	for (int i = 0; i < pv->nfactor; i++)
		sum += pv->f[i].attr;
	add_num(j, "attribution_sum", sum);
	add_num(j, "completeness_error", pv->delta);
	double d = fabs(pv->logit - pv->baseline_logit);
	cJSON_AddNumberToObject(j, "relative_error", d > 0 ? pv->delta / d : 0.0);
	cJSON_AddNumberToObject(j, "steps", pv->steps);
	cJSON_AddStringToObject(j, "rule", ig_rule_name(pv->io.rule));
	cJSON *arr = cJSON_AddArrayToObject(j, "columns");
	for (int i = 0; i < pv->nfactor; i++) {
		const ops_factor *f = &pv->f[i];
		cJSON *it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "column", f->name);
		cJSON_AddStringToObject(it, "label", f->label);
		if (f->unit[0])
			cJSON_AddStringToObject(it, "unit", f->unit);
		cJSON_AddNumberToObject(it, "ig", f->attr);
		if (strcmp(f->code, "."))
			cJSON_AddStringToObject(it, "value", f->code);
		else
			cJSON_AddNullToObject(it, "value");
		cJSON_AddStringToObject(it, "value_text", f->value);
		add_num(it, f->is_share ? "share" : "percentile", f->pct);
		if (!isnan(f->weight))
			cJSON_AddNumberToObject(it, "rollout", f->weight);
		if (pv->edited) {
			cJSON_AddNumberToObject(it, "ig_before", f->attr0);
			cJSON_AddBoolToObject(it, "edited", f->edited);
		}
		cJSON_AddItemToArray(arr, it);
	}
	if (pv->edited) {
		cJSON *w = cJSON_AddObjectToObject(j, "whatif");
		cJSON_AddStringToObject(w, "change", pv->desc);
		if (pv->warn[0])
			cJSON_AddStringToObject(w, "warning", pv->warn);
		add_num(w, "p_before", pv->p0);
		add_num(w, "logit_before", pv->logit0);
	}
	return j;
}
