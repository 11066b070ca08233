/* ops_words.c: what a model's risk is of, in clinical words (labels.h), for every front end
 * that shows a risk: "status = 2 (death)", and for a survival model its horizon with the
 * time column's unit, "status = 2 (death) by 1083 days". */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../data/labels.h"
#include "ops.h"

const char *ops_model_outcome(sqlite3 *db, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "the outcome");
	sqlite3_stmt *st = store_prepare(db, "SELECT target, positive, task, hyper FROM models WHERE name = ?",
					 NULL);
	if (!st)
		return buf;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return buf;
	}
	const char *target = (const char *)sqlite3_column_text(st, 0);
	const char *pos = (const char *)sqlite3_column_text(st, 1);
	const char *task = (const char *)sqlite3_column_text(st, 2);
	const char *hj = (const char *)sqlite3_column_text(st, 3);
	cJSON *h = hj ? cJSON_Parse(hj) : NULL;
	int surv = task && !strcmp(task, "survival");
	const cJSON *tc = cJSON_GetObjectItemCaseSensitive(h, "time"),
		    *ec = cJSON_GetObjectItemCaseSensitive(h, "event"),
		    *ev = cJSON_GetObjectItemCaseSensitive(h, "event_value"),
		    *hz = cJSON_GetObjectItemCaseSensitive(h, "horizon");
	if (surv && cJSON_IsString(ec))
		target = ec->valuestring;
	if (surv && cJSON_IsString(ev))
		pos = ev->valuestring;
	store_columns cols = {0};
	int have = store_columns_load(db, "patients", &cols, NULL) == 0;
	int k = have && target ? store_columns_find(&cols, target) : -1;
	const store_column *c = k >= 0 ? &cols.c[k] : NULL;
	lm_buf b = {0};
	buf_printf(&b, "%s", target ? target : "the outcome");
	if (pos && *pos) {
		const char *l = c ? lbl_value_of_code(c, pos) : NULL;
		buf_printf(&b, " = %s", pos);
		if (l)
			buf_printf(&b, " (%s)", l);
	} else if (c && c->type == COL_TYPE_BOOLEAN) {
		const char *l = lbl_value(c, 1, NULL);
		buf_printf(&b, " = 1 (%s)", l ? l : "yes");
	}
	if (surv && cJSON_IsNumber(hz)) {
		int t = have && cJSON_IsString(tc) ? store_columns_find(&cols, tc->valuestring) : -1;
		char n[48];
		const char *unit = t >= 0 ? cols.c[t].unit : NULL;
		buf_printf(&b, " by %s%s%s%s", unit ? "" : "t = ", lbl_num(hz->valuedouble, 6, n, sizeof n),
			   unit ? " " : "", unit ? unit : "");
	}
	snprintf(buf, len, "%s", b.data);
	buf_free(&b);
	if (have)
		store_columns_free(&cols);
	cJSON_Delete(h);
	sqlite3_finalize(st);
	return buf;
}
