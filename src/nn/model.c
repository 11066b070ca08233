/* model.c: stored models — saving a trained model into the workbench file (models,
 * model_inputs, model_tensors) and loading it back for prediction. Tensors are float32
 * little-endian BLOBs with a shape text such as "64x40". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "coxmodel.h"
#include "model.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "model.c stores tensors by copying float32 memory, which is little-endian only"
#endif

static const char *kind_name(slot_kind k)
{
	return k == SLOT_NUMERIC ? "numeric" : k == SLOT_ONEHOT ? "onehot" : k == SLOT_VISIT ? "visit"
										       : "missing";
}

static int kind_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "numeric"))
		return SLOT_NUMERIC;
	if (!strcmp(s, "onehot"))
		return SLOT_ONEHOT;
	if (!strcmp(s, "missing"))
		return SLOT_MISSING;
	if (!strcmp(s, "visit"))
		return SLOT_VISIT;
	return -1;
}

static char *dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

void model_free(model *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->arch);
	free(m->target);
	free(m->positive);
	free(m->task);
	for (int k = 0; k < m->nclass; k++)
		free(m->classes[k]);
	free(m->classes);
	enc_free(&m->spec);
	nn_free(m->final);
	for (int k = 0; k < m->nfold; k++) {
		if (m->fold)
			nn_free(m->fold[k]);
		if (m->fold_spec)
			enc_free(&m->fold_spec[k]);
	}
	free(m->fold);
	free(m->fold_spec);
	free(m->metrics_json);
	free(m->hyper_json);
	free(m->surv_time);
	free(m->surv_cumhaz);
	free(m);
}

long model_id(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = store_prepare(db, "SELECT id FROM models WHERE name = ?", NULL);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	long id = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return id;
}

char **model_list(sqlite3 *db, int *n, lm_err *err)
{
	*n = 0;
	sqlite3_stmt *st = store_prepare(db, "SELECT name FROM models ORDER BY id", err);
	if (!st)
		return NULL;
	char **names = NULL;
	int cap = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			names = xreallocarray(names, (size_t)cap, sizeof *names);
		}
		names[(*n)++] = dup_col(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		for (int i = 0; i < *n; i++)
			free(names[i]);
		free(names);
		*n = 0;
		lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
		return NULL;
	}
	if (!names)
		names = xcalloc(1, sizeof *names);
	return names;
}

/* ---- predict ---- */

void model_predict(model *m, const float *X, int n, int cls, float *p, float *logit)
{
	int C = nn_get_spec(m->final)->n_out;
	float one[8];
	double pone[8];
	float *z = n * C <= 8 ? one : xmallocarray((size_t)n * (size_t)C, sizeof *z);
	double *pr = n * C <= 8 ? pone : xmallocarray((size_t)n * (size_t)C, sizeof *pr);
	nn_logits(m->final, X, n, z);
	nn_probs(z, n, C, pr);
	int k = C == 1 ? 0 : cls >= 0 && cls < C ? cls : 0;
	double H = 0; /* a survival model: H0 at the horizon */
	for (long j = 0; j < m->surv_n && m->surv_time[j] <= m->surv_horizon; j++)
		H = m->surv_cumhaz[j];
	for (int i = 0; i < n; i++) {
		if (logit)
			logit[i] = z[(size_t)i * (size_t)C + (size_t)k];
		if (p)
			p[i] = m->surv_n ? (float)(1 - exp(-H * exp((double)z[(size_t)i * (size_t)C])))
					 : (float)pr[(size_t)i * (size_t)C + (size_t)k];
	}
	if (z != one)
		free(z);
	if (pr != pone)
		free(pr);
}

/* ---- save ---- */

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

static int put_tensor(sqlite3 *db, sqlite3_stmt *ins, long id, int member, const char *name,
		      const char *shape, const float *data, size_t n, lm_err *err)
{
	sqlite3_reset(ins);
	sqlite3_bind_int64(ins, 1, id);
	sqlite3_bind_int(ins, 2, member);
	sqlite3_bind_text(ins, 3, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(ins, 4, shape, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob64(ins, 5, data, (sqlite3_uint64)(n * sizeof(float)), SQLITE_STATIC);
	int rc = sqlite3_step(ins);
	if (rc != SQLITE_DONE)
		return lm_seterr(err, store_status(rc), "saving tensor %s: %s", name, sqlite3_errmsg(db));
	return 0;
}

static int put_net(sqlite3 *db, sqlite3_stmt *ins, long id, int member, nn_model *nm,
		   lm_err *err)
{
	for (int i = 0; i < nn_ntensors(nm); i++) {
		char *shape = shape_text(nm, i);
		int st = put_tensor(db, ins, id, member, nn_tensor_name(nm, i), shape,
				    nn_tensor_data(nm, i), nn_tensor_size(nm, i), err);
		free(shape);
		if (st)
			return st;
	}
	return 0;
}

/* A float hyper-parameter as the decimal it was written as (0.001, not 0.0010000000474...). */
static double f32(float v)
{
	char b[32];
	snprintf(b, sizeof b, "%.7g", (double)v);
	return strtod(b, NULL);
}

/* The training options in hyper_json plus the architecture's own hyper-parameters. */
static char *hyper_with_arch(const model *m)
{
	cJSON *h = m->hyper_json ? cJSON_Parse(m->hyper_json) : NULL;
	if (!cJSON_IsObject(h)) {
		cJSON_Delete(h);
		h = cJSON_CreateObject();
	}
	const nn_spec *s = nn_get_spec(m->final);
	const char *keys[] = {"l2",        "hidden",     "dropout",    "d_model",
			      "blocks",    "heads",      "ffn",        "seq_steps",
			      "seq_feat",  "gru_hidden", "conv_channels", "conv_width",
			      "attention"};
	for (size_t i = 0; i < LM_ARRAY_LEN(keys); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(h, keys[i]);
	switch (s->arch) {
	case NN_LOGREG:
		cJSON_AddNumberToObject(h, "l2", f32(s->l2));
		break;
	case NN_MLP: {
		cJSON *a = cJSON_AddArrayToObject(h, "hidden");
		for (int i = 0; i < s->n_hidden; i++)
			cJSON_AddItemToArray(a, cJSON_CreateNumber(s->hidden[i]));
		cJSON_AddNumberToObject(h, "dropout", f32(s->dropout));
		break;
	}
	case NN_TRANSFORMER:
		cJSON_AddNumberToObject(h, "d_model", s->d_model);
		cJSON_AddNumberToObject(h, "blocks", s->n_blocks);
		cJSON_AddNumberToObject(h, "heads", s->n_heads);
		cJSON_AddNumberToObject(h, "ffn", s->d_ffn);
		cJSON_AddNumberToObject(h, "dropout", f32(s->dropout));
		break;
	case NN_GRU:
	case NN_CNN:
	case NN_CNNGRU: {
		cJSON *a = cJSON_AddArrayToObject(h, "hidden");
		cJSON_AddItemToArray(a, cJSON_CreateNumber(s->hidden[0]));
		cJSON_AddNumberToObject(h, "seq_steps", s->seq_steps);
		cJSON_AddNumberToObject(h, "seq_feat", s->seq_feat);
		if (s->arch != NN_CNN)
			cJSON_AddNumberToObject(h, "gru_hidden", s->gru_hidden);
		if (s->attention) /* the width of the attention over visits */
			cJSON_AddNumberToObject(h, "attention", s->attention);
		if (s->arch != NN_GRU) {
			cJSON_AddNumberToObject(h, "conv_channels", s->conv_channels);
			cJSON_AddNumberToObject(h, "conv_width", s->conv_width);
		}
		break;
	}
	}
	return json_take(h);
}

static char *inputs_json(const enc_spec *spec)
{
	cJSON *a = cJSON_CreateArray();
	for (int t = 0; t < spec->ncolumn; t++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "column", spec->columns[t]);
		cJSON_AddStringToObject(o, "type", store_type_name(spec->column_type[t]));
		cJSON_AddItemToArray(a, o);
	}
	return json_take(a);
}

static char *classes_json(const model *m)
{
	cJSON *a = cJSON_CreateArray();
	for (int k = 0; k < m->nclass; k++)
		cJSON_AddItemToArray(a, cJSON_CreateString(m->classes[k]));
	return json_take(a);
}

static int exec_id(sqlite3 *db, const char *sql, long id, lm_err *err)
{
	sqlite3_stmt *st = store_prepare(db, sql, err);
	if (!st)
		return err ? err->status : EX_SOFTWARE;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
	return 0;
}

int model_save(sqlite3 *db, model *m, int force, lm_err *err)
{
	long old = model_id(db, m->name);
	int st;
	if (old >= 0) {
		if (!force)
			return lm_seterr(err, EX_DATAERR,
					 "a model named '%s' exists; use --force to replace it", m->name);
		/* explicit deletes: the file may have been opened without foreign keys */
		static const char *const del[] = {
			"DELETE FROM predictions WHERE model_id = ?",
			"DELETE FROM attributions WHERE model_id = ?",
			"DELETE FROM audits WHERE model_id = ?",
			"DELETE FROM model_tensors WHERE model_id = ?",
			"DELETE FROM model_inputs WHERE model_id = ?",
			"DELETE FROM models WHERE id = ?",
		};
		for (size_t i = 0; i < LM_ARRAY_LEN(del); i++)
			if ((st = exec_id(db, del[i], old, err)))
				return st;
	}
	sqlite3_stmt *ins = store_prepare(
		db,
		"INSERT INTO models(name, arch, target, positive, task, classes, hyper, inputs, folds,"
		" metrics, version, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		err);
	if (!ins)
		return err ? err->status : EX_SOFTWARE;
	char *hyper = hyper_with_arch(m), *inputs = inputs_json(&m->spec), *classes = classes_json(m);
	char now[32];
	lm_now_iso(now);
	sqlite3_bind_text(ins, 1, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 2, m->arch, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, m->target, -1, SQLITE_STATIC);
	if (m->positive)
		sqlite3_bind_text(ins, 4, m->positive, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, m->task, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, classes, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 7, hyper, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 8, inputs, -1, SQLITE_STATIC);
	sqlite3_bind_int(ins, 9, m->nfold);
	if (m->metrics_json)
		sqlite3_bind_text(ins, 10, m->metrics_json, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 11, LUMEN_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 12, now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(ins);
	sqlite3_finalize(ins);
	free(classes);
	free(inputs);
	if (rc != SQLITE_DONE) {
		free(hyper);
		return lm_seterr(err, store_status(rc), "saving model: %s", sqlite3_errmsg(db));
	}
	free(m->hyper_json);
	m->hyper_json = hyper;
	m->id = (long)sqlite3_last_insert_rowid(db);

	ins = store_prepare(db,
			    "INSERT INTO model_inputs(model_id, slot, name, source_column, kind, category,"
			    " center, scale) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
			    err);
	if (!ins)
		return err ? err->status : EX_SOFTWARE;
	for (int s = 0; s < m->spec.nslot; s++) {
		const enc_slot *sl = &m->spec.slot[s];
		sqlite3_reset(ins);
		sqlite3_clear_bindings(ins);
		sqlite3_bind_int64(ins, 1, m->id);
		sqlite3_bind_int(ins, 2, s);
		sqlite3_bind_text(ins, 3, sl->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, sl->column, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, kind_name(sl->kind), -1, SQLITE_STATIC);
		if (sl->category)
			sqlite3_bind_text(ins, 6, sl->category, -1, SQLITE_STATIC);
		sqlite3_bind_double(ins, 7, sl->center);
		sqlite3_bind_double(ins, 8, sl->scale);
		if ((rc = sqlite3_step(ins)) != SQLITE_DONE) {
			sqlite3_finalize(ins);
			return lm_seterr(err, store_status(rc), "saving inputs: %s", sqlite3_errmsg(db));
		}
	}
	sqlite3_finalize(ins);

	ins = store_prepare(db,
			    "INSERT INTO model_tensors(model_id, member, name, shape, data)"
			    " VALUES(?, ?, ?, ?, ?)",
			    err);
	if (!ins)
		return err ? err->status : EX_SOFTWARE;
	st = put_net(db, ins, m->id, -1, m->final, err);
	int ns = m->spec.nslot;
	float *buf = xmallocarray((size_t)(ns ? ns : 1), sizeof *buf);
	char *shape = xasprintf("%d", ns);
	for (int k = 0; !st && m->fold && k < m->nfold; k++) {
		if ((st = put_net(db, ins, m->id, k, m->fold[k], err)))
			break;
		if (!m->fold_spec)
			continue;
		for (int s = 0; s < ns; s++)
			buf[s] = (float)m->fold_spec[k].slot[s].center;
		if ((st = put_tensor(db, ins, m->id, k, "input.center", shape, buf, (size_t)ns, err)))
			break;
		for (int s = 0; s < ns; s++)
			buf[s] = (float)m->fold_spec[k].slot[s].scale;
		st = put_tensor(db, ins, m->id, k, "input.scale", shape, buf, (size_t)ns, err);
	}
	free(shape);
	free(buf);
	sqlite3_finalize(ins);
	return st;
}

/* ---- load ---- */

static int load_spec(sqlite3 *db, long id, const char *inputs, enc_spec *spec, lm_err *err)
{
	memset(spec, 0, sizeof *spec);
	cJSON *a = cJSON_Parse(inputs ? inputs : "");
	if (!cJSON_IsArray(a)) {
		cJSON_Delete(a);
		return lm_seterr(err, EX_DATAERR, "model %ld: its inputs are not readable", id);
	}
	int nc = cJSON_GetArraySize(a);
	spec->columns = xcalloc((size_t)(nc ? nc : 1), sizeof *spec->columns);
	spec->column_type = xcalloc((size_t)(nc ? nc : 1), sizeof *spec->column_type);
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "column");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
		int ty = cJSON_IsString(t) ? store_type_parse(t->valuestring) : -1;
		if (!cJSON_IsString(c) || ty < 0) {
			cJSON_Delete(a);
			enc_free(spec);
			return lm_seterr(err, EX_DATAERR, "model %ld: its inputs are not readable", id);
		}
		spec->columns[spec->ncolumn] = xstrdup(c->valuestring);
		spec->column_type[spec->ncolumn] = (col_type)ty;
		spec->ncolumn++;
	}
	cJSON_Delete(a);
	sqlite3_stmt *st = store_prepare(db,
					 "SELECT name, source_column, kind, category, center, scale"
					 " FROM model_inputs WHERE model_id = ? ORDER BY slot",
					 err);
	if (!st) {
		enc_free(spec);
		return err ? err->status : EX_SOFTWARE;
	}
	sqlite3_bind_int64(st, 1, id);
	int cap = 0, rc, bad = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (spec->nslot == cap) {
			cap = cap ? 2 * cap : 16;
			spec->slot = xreallocarray(spec->slot, (size_t)cap, sizeof *spec->slot);
		}
		enc_slot *sl = &spec->slot[spec->nslot++];
		sl->name = dup_col(st, 0);
		sl->column = dup_col(st, 1);
		int k = kind_parse((const char *)sqlite3_column_text(st, 2));
		sl->kind = k < 0 ? SLOT_NUMERIC : (slot_kind)k;
		sl->category = dup_col(st, 3);
		sl->center = sqlite3_column_double(st, 4);
		sl->scale = sqlite3_column_double(st, 5);
		sl->token = -1;
		for (int t = 0; t < spec->ncolumn; t++)
			if (sl->column && !strcmp(sl->column, spec->columns[t]))
				sl->token = t;
		if (k < 0 || sl->token < 0 || !sl->name || (k == SLOT_ONEHOT && !sl->category)) {
			if (!sl->name)
				sl->name = xstrdup("");
			if (!sl->column)
				sl->column = xstrdup("");
			bad = 1;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || bad || spec->nslot == 0) {
		enc_free(spec);
		return lm_seterr(err, EX_DATAERR, "model %ld: its input slots are not readable", id);
	}
	return 0;
}

/* The network of a stored architecture: a Cox model's log-hazard is linear in its inputs, so
 * its members are logreg networks (coefficients "w", "b" = 0; see coxmodel.h). */
static int net_arch(const char *arch_name)
{
	if (arch_name && !strcmp(arch_name, "cox"))
		return NN_LOGREG;
	return nn_arch_parse(arch_name);
}

static void spec_from_hyper(nn_spec *s, const char *arch_name, const char *hyper, int n_in,
			    int n_out, const enc_spec *cs, int *tokens)
{
	int a = net_arch(arch_name);
	nn_spec_defaults(s, a < 0 ? NN_LOGREG : (nn_arch)a, n_in, n_out);
	cJSON *h = cJSON_Parse(hyper ? hyper : "");
	const cJSON *v;
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "l2")) && cJSON_IsNumber(v))
		s->l2 = (float)v->valuedouble;
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "dropout")) && cJSON_IsNumber(v))
		s->dropout = (float)v->valuedouble;
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "hidden")) && cJSON_IsArray(v)) {
		s->n_hidden = 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, v) if (cJSON_IsNumber(e) && s->n_hidden < NN_MAX_HIDDEN)
			s->hidden[s->n_hidden++] = e->valueint;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "d_model")) && cJSON_IsNumber(v))
		s->d_model = v->valueint;
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "blocks")) && cJSON_IsNumber(v))
		s->n_blocks = v->valueint;
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "heads")) && cJSON_IsNumber(v))
		s->n_heads = v->valueint;
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "ffn")) && cJSON_IsNumber(v))
		s->d_ffn = v->valueint;
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "seq_steps")) && cJSON_IsNumber(v))
		s->seq_steps = v->valueint;
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "seq_feat")) && cJSON_IsNumber(v))
		s->seq_feat = v->valueint;
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "gru_hidden")) && cJSON_IsNumber(v))
		s->gru_hidden = v->valueint;
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "conv_channels")) && cJSON_IsNumber(v))
		s->conv_channels = v->valueint;
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "conv_width")) && cJSON_IsNumber(v))
		s->conv_width = v->valueint;
	if ((v = cJSON_GetObjectItemCaseSensitive(h, "attention")) && cJSON_IsNumber(v))
		s->attention = v->valueint;
	cJSON_Delete(h);
	for (int i = 0; i < cs->nslot; i++)
		tokens[i] = cs->slot[i].token;
	s->n_tokens = cs->ncolumn;
	s->slot_token = tokens;
}

/* Fills the tensors of member `member` into nm (checking names and sizes), and for folds the
 * input statistics into fspec. Returns 0, EX_DATAERR, or -1 when the member has no rows. */
static int load_member(sqlite3 *db, long id, int member, nn_model *nm, enc_spec *fspec,
		       lm_err *err)
{
	sqlite3_stmt *st = store_prepare(
		db, "SELECT name, data FROM model_tensors WHERE model_id = ? AND member = ?", err);
	if (!st)
		return err ? err->status : EX_SOFTWARE;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, member);
	int nt = nn_ntensors(nm), found = 0, rows = 0, status = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		rows++;
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const void *data = sqlite3_column_blob(st, 1);
		size_t bytes = (size_t)sqlite3_column_bytes(st, 1);
		if (!name || !strncmp(name, "cox.", 4)) /* a Cox baseline hazard: coxmodel.h */
			continue;
		if (fspec && (!strcmp(name, "input.center") || !strcmp(name, "input.scale"))) {
			if (bytes != (size_t)fspec->nslot * sizeof(float)) {
				status = lm_seterr(err, EX_DATAERR, "model %ld: tensor %s has the wrong size",
						   id, name);
				break;
			}
			const float *f = data;
			int is_center = !strcmp(name, "input.center");
			for (int s = 0; s < fspec->nslot; s++) {
				float v;
				memcpy(&v, f + s, sizeof v);
				if (!isfinite(v)) {
					status = lm_seterr(err, EX_DATAERR, "model %ld: tensor %s holds %g "
							   "(a crafted or damaged file)", id, name,
							   (double)v);
					break;
				}
				if (is_center)
					fspec->slot[s].center = v;
				else
					fspec->slot[s].scale = v;
			}
			if (status)
				break;
			continue;
		}
		int i;
		for (i = 0; i < nt && strcmp(nn_tensor_name(nm, i), name); i++)
			;
		if (i == nt || bytes != nn_tensor_size(nm, i) * sizeof(float)) {
			status = lm_seterr(err, EX_DATAERR,
					   "model %ld: stored tensor %s does not fit the architecture", id, name);
			break;
		}
		memcpy(nn_tensor_data(nm, i), data, bytes);
		const float *w = nn_tensor_data(nm, i);
		for (size_t j = 0; j < bytes / sizeof(float) && !status; j++)
			if (!isfinite(w[j]))
				status = lm_seterr(err, EX_DATAERR, "model %ld: tensor %s holds %g "
						   "(a crafted or damaged file)", id, name, (double)w[j]);
		if (status)
			break;
		found++;
	}
	sqlite3_finalize(st);
	if (status)
		return status;
	if (rows == 0)
		return -1;
	if (found != nt)
		return lm_seterr(err, EX_DATAERR, "model %ld: member %d has %d of its %d tensors", id,
				 member, found, nt);
	return 0;
}

model *model_load(sqlite3 *db, const char *name, lm_err *err)
{
	sqlite3_stmt *st = store_prepare(db,
					 "SELECT id, name, arch, target, positive, task, classes, hyper,"
					 " inputs, folds, metrics FROM models WHERE name = ?",
					 err);
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		lm_seterr(err, EX_DATAERR, "no model '%s'; lumen models FILE lists them", name);
		return NULL;
	}
	model *m = xcalloc(1, sizeof *m);
	m->id = (long)sqlite3_column_int64(st, 0);
	m->name = dup_col(st, 1);
	m->arch = dup_col(st, 2);
	m->target = dup_col(st, 3);
	m->positive = dup_col(st, 4);
	m->task = dup_col(st, 5);
	char *classes = dup_col(st, 6);
	m->hyper_json = dup_col(st, 7);
	char *inputs = dup_col(st, 8);
	int nfold = sqlite3_column_int(st, 9);
	m->metrics_json = dup_col(st, 10);
	sqlite3_finalize(st);
	if (!m->task)
		m->task = xstrdup("binary");

	cJSON *ca = cJSON_Parse(classes ? classes : "");
	free(classes);
	int nc = cJSON_IsArray(ca) ? cJSON_GetArraySize(ca) : 0;
	m->classes = xcalloc((size_t)(nc ? nc : 1), sizeof *m->classes);
	const cJSON *e;
	cJSON_ArrayForEach(e, ca) if (cJSON_IsString(e)) m->classes[m->nclass++] =
		xstrdup(e->valuestring);
	cJSON_Delete(ca);
	int status = load_spec(db, m->id, inputs, &m->spec, err);
	free(inputs);
	if (status || m->nclass < 2 || !m->arch || net_arch(m->arch) < 0) {
		if (!status)
			lm_seterr(err, EX_DATAERR, "model '%s' is not readable (classes or architecture)",
				  name);
		model_free(m);
		return NULL;
	}
	int n_out = m->nclass == 2 ? 1 : m->nclass;
	int *tokens = xmallocarray((size_t)m->spec.nslot, sizeof *tokens);
	nn_spec ns;
	spec_from_hyper(&ns, m->arch, m->hyper_json, m->spec.nslot, n_out, &m->spec, tokens);
	m->final = nn_create(&ns, 0, err);
	if (!m->final || (status = load_member(db, m->id, -1, m->final, NULL, err)) != 0) {
		if (status < 0)
			lm_seterr(err, EX_DATAERR, "model '%s' has no final weights", name);
		free(tokens);
		model_free(m);
		return NULL;
	}
	if (!strcmp(m->task, "survival")) {
		coxm_baseline b;
		cJSON *h = cJSON_Parse(m->hyper_json ? m->hyper_json : "");
		const cJSON *hz = cJSON_GetObjectItemCaseSensitive(h, "horizon");
		if (cJSON_IsNumber(hz) && coxm_baseline_load(db, m->id, -1, &b, NULL) == 0) {
			m->surv_horizon = hz->valuedouble;
			m->surv_n = b.n;
			m->surv_time = b.time;
			m->surv_cumhaz = b.cumhaz;
		}
		cJSON_Delete(h);
	}
	if (nfold > 0) {
		m->fold = xcalloc((size_t)nfold, sizeof *m->fold);
		m->fold_spec = xcalloc((size_t)nfold, sizeof *m->fold_spec);
		m->nfold = nfold;
		for (int k = 0; k < nfold; k++) {
			enc_copy(&m->spec, &m->fold_spec[k]);
			m->fold[k] = nn_create(&ns, 0, err);
			status = m->fold[k] ? load_member(db, m->id, k, m->fold[k], &m->fold_spec[k], err)
					    : EX_SOFTWARE;
			if (status > 0) {
				free(tokens);
				model_free(m);
				return NULL;
			}
			if (status < 0) { /* folds not stored: the final model alone */
				for (int j = 0; j <= k; j++) {
					nn_free(m->fold[j]);
					enc_free(&m->fold_spec[j]);
				}
				free(m->fold);
				free(m->fold_spec);
				m->fold = NULL;
				m->fold_spec = NULL;
				m->nfold = 0;
				break;
			}
		}
	}
	free(tokens);
	return m;
}
