/* ops_record.c: a patient's own record for the patient view — the id and the line of group,
 * treatment and outcome values — and the patient's visits (one series per numeric lab, the
 * labs that change first), for the TUI's Patient screen and any front end that shows them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../data/labels.h"
#include "ops.h"

static void text_of(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL: snprintf(buf, len, "."); break;
	case SQLITE_INTEGER: snprintf(buf, len, "%lld", (long long)sqlite3_column_int64(st, i)); break;
	case SQLITE_FLOAT: snprintf(buf, len, "%.4g", sqlite3_column_double(st, i)); break;
	default: snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, i));
	}
}

int ops_record_load(sqlite3 *db, long rowid, ops_record *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	store_columns cl, *cols = &cl;
	if (store_columns_load(db, "patients", cols, err))
		return err ? err->status : EX_SOFTWARE;
	sqlite3_stmt *st = store_prepare(db, "SELECT * FROM patients WHERE rowid = ?", err);
	if (!st) {
		store_columns_free(cols);
		return err ? err->status : EX_SOFTWARE;
	}
	sqlite3_bind_int64(st, 1, rowid);
	lm_buf demo = {0};
	if (sqlite3_step(st) == SQLITE_ROW) {
		int nc = sqlite3_column_count(st);
		for (int i = 0; i < nc; i++) {
			const char *name = sqlite3_column_name(st, i);
			int k = store_columns_find(cols, name);
			if (k < 0)
				continue;
			char v[128];
			text_of(st, i, v, sizeof v);
			const store_column *m = &cols->c[k];
			col_role r = m->role;
			if (r == COL_ROLE_ID) {
				snprintf(out->id, sizeof out->id, "%.63s", v);
			} else if (r == COL_ROLE_GROUP || r == COL_ROLE_TREATMENT || r == COL_ROLE_TARGET ||
				   r == COL_ROLE_TIME || r == COL_ROLE_EVENT) {
				/* in words (labels.h): "Treatment D-penicillamine", "Follow-up 400 days" */
				int null = sqlite3_column_type(st, i) == SQLITE_NULL;
				const char *tv = m->type == COL_TYPE_TEXT && !null
							 ? (const char *)sqlite3_column_text(st, i) : NULL;
				double num = m->type == COL_TYPE_TEXT || null ? (double)NAN
									       : sqlite3_column_double(st, i);
				lbl_text(m, num, tv, v, sizeof v);
				int unit = m->unit && !null && !lbl_value(m, num, tv);
				buf_printf(&demo, "%s%s %s%s%s", demo.len ? " | " : "", lbl_name(m), v,
					   unit ? " " : "", unit ? m->unit : "");
			}
		}
	}
	sqlite3_finalize(st);
	if (!out->id[0])
		snprintf(out->id, sizeof out->id, "row %ld", rowid);
	snprintf(out->demo, sizeof out->demo, "%s", demo.len ? demo.data : "(no group or outcome columns)");
	buf_free(&demo);
	store_columns_free(cols);
	return 0;
}


int ops_visits_load(sqlite3 *db, long rowid, ops_visits *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	if (!store_has_table(db, "visits"))
		return 0;
	store_columns vc;
	if (store_columns_load(db, "visits", &vc, err))
		return err ? err->status : EX_SOFTWARE;
	int tcol = store_columns_role(&vc, COL_ROLE_TIME);
	if (tcol >= 0)
		snprintf(out->time_col, sizeof out->time_col, "%s", vc.c[tcol].name);
	/* a lab without words of its own borrows the label and unit of the patients' column of
	 * the same name (pbcseq's bili is pbc's bili); value names are not borrowed, as the two
	 * tables may code a column differently */
	store_columns pc;
	int have_pc = store_columns_load(db, "patients", &pc, NULL) == 0;
	for (int i = 0; i < vc.n; i++) {
		store_column *m = &vc.c[i];
		if (m->role != COL_ROLE_FEATURE || m->type == COL_TYPE_TEXT)
			continue;
		out->labs = xreallocarray(out->labs, (size_t)out->nlab + 1, sizeof *out->labs);
		ops_lab *l = &out->labs[out->nlab++];
		memset(l, 0, sizeof *l);
		int k = have_pc && !m->label && !m->unit ? store_columns_find(&pc, m->name) : -1;
		const char *name = k >= 0 ? lbl_name(&pc.c[k]) : lbl_name(m);
		const char *unit = k >= 0 ? pc.c[k].unit : m->unit;
		l->name = unit ? xasprintf("%s (%s)", name, unit) : xstrdup(name);
		l->mean = m->mean, l->sd = m->sd;
	}
	if (have_pc)
		store_columns_free(&pc);
	sqlite3_stmt *st = store_prepare(db, "SELECT * FROM visits WHERE \"__patient\" = ? ORDER BY rowid", NULL);
	if (!st) {
		store_columns_free(&vc);
		return EX_SOFTWARE;
	}
	sqlite3_bind_int64(st, 1, rowid);
	int cap = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (out->nvisit == cap) {
			cap = cap ? 2 * cap : 16;
			out->time = xreallocarray(out->time, (size_t)cap, sizeof *out->time);
			for (int l = 0; l < out->nlab; l++)
				out->labs[l].v = xreallocarray(out->labs[l].v, (size_t)cap, sizeof(double));
		}
		int v = out->nvisit++;
		out->time[v] = v;
		for (int l = 0; l < out->nlab; l++)
			out->labs[l].v[v] = NAN;
		int li = 0;
		for (int i = 0; i < vc.n; i++) {
			store_column *m = &vc.c[i];
			int j = -1;
			for (int q = 0; q < sqlite3_column_count(st); q++)
				if (!strcmp(sqlite3_column_name(st, q), m->name))
					j = q;
			if (j < 0)
				continue;
			if (i == tcol && sqlite3_column_type(st, j) != SQLITE_NULL)
				out->time[v] = sqlite3_column_double(st, j);
			if (m->role != COL_ROLE_FEATURE || m->type == COL_TYPE_TEXT)
				continue;
			if (sqlite3_column_type(st, j) != SQLITE_NULL)
				out->labs[li].v[v] = sqlite3_column_double(st, j);
			li++;
		}
	}
	sqlite3_finalize(st);
	store_columns_free(&vc);
	/* labs that change over this patient's visits first: constants (age at entry, the
	 * follow-up time) tell nothing over time */
	int k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int l = k; l < out->nlab; l++) {
			int varies = 0;
			for (int v = 1; v < out->nvisit; v++)
				if (!isnan(out->labs[l].v[v]) && out->labs[l].v[v] != out->labs[l].v[0])
					varies = 1;
			if (varies == !pass) {
				ops_lab t = out->labs[l];
				memmove(&out->labs[k + 1], &out->labs[k], (size_t)(l - k) * sizeof t);
				out->labs[k++] = t;
			}
		}
	return 0;
}

void ops_visits_free(ops_visits *v)
{
	if (!v)
		return;
	for (int i = 0; i < v->nlab; i++) {
		free(v->labs[i].name);
		free(v->labs[i].v);
	}
	free(v->labs);
	free(v->time);
	memset(v, 0, sizeof *v);
}

cJSON *ops_visits_json(const ops_visits *v)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "time_column", v->time_col);
	cJSON_AddItemToObject(j, "time", cJSON_CreateDoubleArray(v->time, v->nvisit));
	cJSON *labs = cJSON_AddArrayToObject(j, "labs");
	for (int i = 0; i < v->nlab; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "lab", v->labs[i].name);
		cJSON *a = cJSON_AddArrayToObject(o, "values");
		for (int k = 0; k < v->nvisit; k++)
			cJSON_AddItemToArray(a, isnan(v->labs[i].v[k]) ? cJSON_CreateNull()
								  : cJSON_CreateNumber(v->labs[i].v[k]));
		cJSON_AddItemToArray(labs, o);
	}
	return j;
}

cJSON *ops_record_json(const ops_record *r)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "patient", r->id);
	cJSON_AddStringToObject(j, "summary", r->demo);
	return j;
}
