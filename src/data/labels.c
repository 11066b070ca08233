/* labels.c: column labels, units and value labels (stored in column_labels), and the one way
 * a value is written on screen. See labels.h. */
#include "labels.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvin.h"
#include "import.h"

static const char table_sql[] =
	"CREATE TABLE IF NOT EXISTS column_labels(dataset TEXT NOT NULL, name TEXT NOT NULL,"
	" label TEXT, unit TEXT, value_labels TEXT, changed_at TEXT, PRIMARY KEY(dataset, name))";

/* ---- reading ---- */

/* The number a code stands for in column c: a number, or for a boolean column any spelling
 * the import reads as one (0/1, yes/no, true/false, as the CSV had it). 0, or -1. */
static int code_num(const store_column *c, const char *code, double *num)
{
	*num = (double)NAN;
	if (c->type == COL_TYPE_TEXT)
		return 0;
	if (!parse_double(code, num))
		return 0;
	if (c->type == COL_TYPE_BOOLEAN) {
		int b = import_bool_value(code);
		if (b >= 0) {
			*num = b;
			return 0;
		}
	}
	return -1;
}

static void vl_clear(store_column *c)
{
	for (int j = 0; j < c->nvl; j++) {
		free(c->vl[j].code);
		free(c->vl[j].text);
	}
	free(c->vl);
	c->vl = NULL;
	c->nvl = 0;
}

/* [{"code":"1","label":"D-penicillamine"}, ...] into c->vl; anything else is ignored. */
static void vl_parse(store_column *c, const char *json)
{
	vl_clear(c);
	cJSON *a = json ? cJSON_Parse(json) : NULL;
	if (!cJSON_IsArray(a)) {
		cJSON_Delete(a);
		return;
	}
	int n = cJSON_GetArraySize(a);
	c->vl = n > 0 ? xcalloc((size_t)n, sizeof *c->vl) : NULL;
	cJSON *it;
	cJSON_ArrayForEach(it, a)
	{
		const char *code = cJSON_GetStringValue(cJSON_GetObjectItem(it, "code"));
		const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(it, "label"));
		if (!code || !text)
			continue;
		store_vlabel *v = &c->vl[c->nvl++];
		v->code = xstrdup(code);
		v->text = xstrdup(text);
		if (code_num(c, code, &v->num))
			v->num = (double)NAN;
	}
	cJSON_Delete(a);
}

int lbl_attach(sqlite3 *db, const char *dataset, store_columns *cols, lm_err *err)
{
	if (!store_has_table(db, "column_labels"))
		return 0;
	sqlite3_stmt *st = store_prepare(
		db, "SELECT name, label, unit, value_labels FROM column_labels WHERE dataset = ?", err);
	if (!st)
		return err ? err->status : EX_SOFTWARE;
	sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int k = name ? store_columns_find(cols, name) : -1;
		if (k < 0)
			continue;
		store_column *c = &cols->c[k];
		const char *label = (const char *)sqlite3_column_text(st, 1);
		const char *unit = (const char *)sqlite3_column_text(st, 2);
		free(c->label);
		c->label = label && *label ? xstrdup(label) : NULL;
		free(c->unit);
		c->unit = unit && *unit ? xstrdup(unit) : NULL;
		vl_parse(c, (const char *)sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
	return 0;
}

const char *lbl_name(const store_column *c) { return c->label ? c->label : c->name; }

const char *lbl_name_unit(const store_column *c, char *buf, size_t len)
{
	if (c->unit)
		snprintf(buf, len, "%s (%s)", lbl_name(c), c->unit);
	else
		snprintf(buf, len, "%s", lbl_name(c));
	return buf;
}

const char *lbl_value(const store_column *c, double num, const char *text)
{
	for (int j = 0; j < c->nvl; j++) {
		const store_vlabel *v = &c->vl[j];
		if (c->type == COL_TYPE_TEXT ? text && !strcmp(v->code, text) : v->num == num)
			return v->text;
	}
	return NULL;
}

const char *lbl_value_of_code(const store_column *c, const char *code)
{
	double num;
	if (code_num(c, code, &num))
		return NULL;
	return lbl_value(c, num, code);
}

int lbl_is_category(const store_column *c)
{
	return c->type == COL_TYPE_TEXT || c->type == COL_TYPE_BOOLEAN || c->nvl > 0;
}

/* ---- writing numbers ---- */

/* Inserts ',' every three digits of the integer part (from 10,000 on). */
static void group_thousands(char *s, size_t len)
{
	const char *p = s + (*s == '-');
	size_t ndig = strspn(p, "0123456789");
	if (ndig < 5)
		return;
	char out[96];
	size_t k = 0;
	if (*s == '-')
		out[k++] = '-';
	for (size_t i = 0; i < ndig && k + 2 < sizeof out; i++) {
		if (i > 0 && (ndig - i) % 3 == 0)
			out[k++] = ',';
		out[k++] = p[i];
	}
	snprintf(out + k, sizeof out - k, "%s", p + ndig);
	if (strlen(out) < len)
		memcpy(s, out, strlen(out) + 1);
}

const char *lbl_num(double v, int sig, char *buf, size_t len)
{
	if (isnan(v)) {
		snprintf(buf, len, "missing");
		return buf;
	}
	if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "inf" : "-inf");
		return buf;
	}
	if (sig < 1)
		sig = 1;
	double a = fabs(v);
	int dec = 0;
	if (a > 0 && a < pow(10, sig)) {
		int e = (int)floor(log10(a));
		dec = sig - 1 - e;
		if (dec < 0)
			dec = 0;
		if (dec > 12)
			dec = 12;
	}
	if (a >= 1e15) /* beyond exact integers: still no e-notation */
		dec = 0;
	snprintf(buf, len, "%.*f", dec, v);
	if (dec > 0 && strchr(buf, '.')) {
		char *e = buf + strlen(buf) - 1;
		while (*e == '0')
			*e-- = 0;
		if (*e == '.')
			*e = 0;
	}
	if (!strcmp(buf, "-0"))
		snprintf(buf, len, "0");
	group_thousands(buf, len);
	return buf;
}

const char *lbl_text(const store_column *c, double num, const char *text, char *buf, size_t len)
{
	int missing = c->type == COL_TYPE_TEXT ? !text : isnan(num);
	if (missing) {
		snprintf(buf, len, "missing");
		return buf;
	}
	const char *l = lbl_value(c, num, text);
	if (l)
		snprintf(buf, len, "%s", l);
	else if (c->type == COL_TYPE_TEXT)
		snprintf(buf, len, "%s", text);
	else if (c->type == COL_TYPE_BOOLEAN)
		snprintf(buf, len, "%s", num != 0 ? "yes" : "no");
	else
		lbl_num(num, 4, buf, len);
	return buf;
}

const char *lbl_cell(const frame *f, int col, long row, char *buf, size_t len)
{
	const frame_col *c = &f->col[col];
	double v = c->v[row];
	if (c->str)
		return lbl_text(c->meta, NAN, c->str[row], buf, len);
	if (c->meta->type == COL_TYPE_TEXT) {
		int k = isnan(v) ? -1 : (int)v;
		return lbl_text(c->meta, NAN, k >= 0 && k < c->meta->ncat ? c->meta->cats[k] : NULL,
				buf, len);
	}
	return lbl_text(c->meta, v, NULL, buf, len);
}

int lbl_input(const store_column *c, const char *in, double *num, char *code, size_t len)
{
	*num = (double)NAN;
	if (!strcmp(in, ".") || !strcmp(in, "missing") || !*in) {
		snprintf(code, len, ".");
		return 0;
	}
	for (int j = 0; j < c->nvl; j++)
		if (!strcasecmp(c->vl[j].text, in)) {
			snprintf(code, len, "%s", c->vl[j].code);
			*num = c->vl[j].num;
			return 0;
		}
	snprintf(code, len, "%s", in);
	if (c->type == COL_TYPE_TEXT)
		return 0;
	if (c->type == COL_TYPE_BOOLEAN && (!strcasecmp(in, "yes") || !strcasecmp(in, "no"))) {
		*num = !strcasecmp(in, "yes");
		snprintf(code, len, "%d", (int)*num);
		return 0;
	}
	/* numbers as written on screen may carry thousands separators */
	char tmp[64];
	size_t k = 0;
	for (const char *p = in; *p && k + 1 < sizeof tmp; p++)
		if (*p != ',')
			tmp[k++] = *p;
	tmp[k] = 0;
	double x;
	if (parse_double(tmp, &x))
		return -1;
	*num = x;
	snprintf(code, len, "%s", tmp);
	return 0;
}

/* One part of a group label: "sex=f" -> "Sex female", "age 50-65" -> "Age 50-65". */
static void group_part(const store_columns *cols, const char *p, size_t n, lm_buf *b)
{
	char part[256];
	snprintf(part, sizeof part, "%.*s", (int)n, p);
	const char *eq = strchr(part, '=');
	if (eq && eq > part && eq[-1] != '<' && eq[-1] != '>') {
		char col[256];
		snprintf(col, sizeof col, "%.*s", (int)(eq - part), part);
		int k = store_columns_find(cols, col);
		if (k >= 0) {
			const store_column *c = &cols->c[k];
			const char *v = lbl_value_of_code(c, eq + 1);
			if (c->label || v) {
				buf_printf(b, "%s %s", lbl_name(c), v ? v : eq + 1);
				return;
			}
		}
	}
	/* a bin: the column's name then a space, '<' or '>' */
	size_t cl = strcspn(part, " <>");
	if (part[cl]) {
		char col[256];
		snprintf(col, sizeof col, "%.*s", (int)cl, part);
		int k = store_columns_find(cols, col);
		if (k >= 0 && cols->c[k].label) {
			buf_printf(b, "%s%s%s", cols->c[k].label, part[cl] == ' ' ? "" : " ", part + cl);
			return;
		}
	}
	buf_puts(b, part);
}

const char *lbl_group_text(const store_columns *cols, const char *group, char *buf, size_t len)
{
	lm_buf b = {0};
	buf_puts(&b, "");
	const char *p = group;
	int words = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (p != group)
			buf_puts(&b, words ? ", " : ",");
		size_t at = b.len;
		group_part(cols, p, n, &b);
		/* a part put in words is set off with ", " (the first one decides for all) */
		if (p == group)
			words = strncmp(b.data + at, p, n) != 0;
		p += n;
		if (*p == ',')
			p++;
	}
	snprintf(buf, len, "%s", b.data);
	buf_free(&b);
	return buf;
}

/* ---- changing labels ---- */

static int where_err(lm_err *err, const char *where, const char *fmt, const char *a,
		     const char *b)
{
	char msg[400];
	snprintf(msg, sizeof msg, fmt, a, b);
	return lm_seterr(err, EX_DATAERR, "%s%s%s", where ? where : "", where ? ": " : "", msg);
}

/* Whether the column holds the value code (1), not (0), or -1 on an SQL error. */
static int column_has(sqlite3 *db, const char *dataset, const store_column *c, const char *code,
		      double num)
{
	char *q = sqlite3_mprintf("SELECT 1 FROM \"%w\" WHERE \"%w\" = ? LIMIT 1", dataset, c->name);
	sqlite3_stmt *st = store_prepare(db, q, NULL);
	sqlite3_free(q);
	if (!st)
		return -1;
	if (c->type == COL_TYPE_TEXT)
		sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	else
		sqlite3_bind_double(st, 1, num);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* "1=D-penicillamine,2=placebo" -> JSON array text (malloc'd), checked against the column.
 * "" gives NULL (no value labels). 0 or EX_DATAERR. */
static int values_json(sqlite3 *db, const char *dataset, const store_column *c, const char *values,
		       const char *where, char **out, lm_err *err)
{
	*out = NULL;
	if (!*values)
		return 0;
	cJSON *a = cJSON_CreateArray();
	char *list = xstrdup(values), *save = NULL;
	int st = 0;
	for (char *t = strtok_r(list, ",", &save); t && !st; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		char *eq = strchr(t, '=');
		if (!eq || eq == t || !eq[1]) {
			st = where_err(err, where, "values: '%s' is not CODE=LABEL (as in %s)", t,
				       "\"1=D-penicillamine,2=placebo\"");
			break;
		}
		*eq = 0;
		char *code = t, *text = eq + 1;
		for (char *e = code + strlen(code); e > code && e[-1] == ' ';)
			*--e = 0;
		while (*text == ' ')
			text++;
		double num = (double)NAN;
		if (code_num(c, code, &num)) {
			char m[200];
			const char *tn = store_type_name(c->type);
			snprintf(m, sizeof m, "%s is a%s %s column", c->name,
				 strchr("aeiou", tn[0]) ? "n" : "", tn);
			st = where_err(err, where, c->type == COL_TYPE_BOOLEAN
				       ? "values: code '%s' is not a yes/no value (%s)"
				       : "values: code '%s' is not a number (%s)", code, m);
			break;
		}
		int has = column_has(db, dataset, c, code, num);
		if (has < 0) {
			st = lm_seterr(err, EX_SOFTWARE, "%s", sqlite3_errmsg(db));
			break;
		}
		if (!has) {
			char m[200];
			snprintf(m, sizeof m, "column '%s' never has the value '%s'", c->name, code);
			st = where_err(err, where, "values: %s (label '%s')", m, text);
			break;
		}
		cJSON *it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "code", code);
		cJSON_AddStringToObject(it, "label", text);
		cJSON_AddItemToArray(a, it);
	}
	free(list);
	if (!st)
		*out = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return st;
}

/* "1=D-penicillamine,2=placebo" from a column's value labels (malloc'd, "" when none). */
static char *values_text(const store_column *c)
{
	lm_buf b = {0};
	buf_puts(&b, "");
	for (int j = 0; j < c->nvl; j++)
		buf_printf(&b, "%s%s=%s", j ? "," : "", c->vl[j].code, c->vl[j].text);
	char *s = xstrdup(b.data ? b.data : "");
	buf_free(&b);
	return s;
}

static void describe(lm_buf *d, const char *what, const char *old, const char *now)
{
	int o = old && *old, n = now && *now;
	if (o == n && (!o || !strcmp(old, now)))
		return;
	buf_printf(d, "%s%s %s%s%s -> %s%s%s", d->len ? "; " : "", what, o ? "'" : "", o ? old : "none",
		   o ? "'" : "", n ? "'" : "", n ? now : "none", n ? "'" : "");
}

int lbl_set(sqlite3 *db, const char *dataset, const char *column, const char *label,
	    const char *unit, const char *values, const char *where, lm_err *err)
{
	store_columns cols;
	int st = store_columns_load(db, dataset, &cols, err);
	if (st)
		return st;
	int k = store_columns_find(&cols, column);
	if (k < 0) {
		st = where_err(err, where, "no column '%s' in %s", column, dataset);
		store_columns_free(&cols);
		return st;
	}
	store_column *c = &cols.c[k];
	char *vjson = NULL;
	if (values && (st = values_json(db, dataset, c, values, where, &vjson, err))) {
		store_columns_free(&cols);
		return st;
	}
	char *old_values = values_text(c);
	const char *new_label = label ? label : c->label;
	const char *new_unit = unit ? unit : c->unit;
	char *new_values = NULL;
	if (!values) {
		cJSON *a = cJSON_CreateArray();
		for (int j = 0; j < c->nvl; j++) {
			cJSON *it = cJSON_CreateObject();
			cJSON_AddStringToObject(it, "code", c->vl[j].code);
			cJSON_AddStringToObject(it, "label", c->vl[j].text);
			cJSON_AddItemToArray(a, it);
		}
		vjson = c->nvl ? cJSON_PrintUnformatted(a) : NULL;
		cJSON_Delete(a);
		new_values = xstrdup(old_values);
	} else {
		new_values = xstrdup(values);
	}
	lm_buf d = {0};
	describe(&d, "label", c->label, new_label);
	describe(&d, "unit", c->unit, new_unit);
	describe(&d, "values", old_values, new_values);
	if (!(st = store_exec(db, table_sql, err))) {
		sqlite3_stmt *ins = store_prepare(
			db, "INSERT OR REPLACE INTO column_labels(dataset, name, label, unit, value_labels,"
			    " changed_at) VALUES(?, ?, ?, ?, ?, ?)", err);
		char now[32];
		lm_now_iso(now);
		if (!ins) {
			st = err ? err->status : EX_SOFTWARE;
		} else {
			sqlite3_bind_text(ins, 1, dataset, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 2, c->name, -1, SQLITE_STATIC);
			if (new_label && *new_label)
				sqlite3_bind_text(ins, 3, new_label, -1, SQLITE_TRANSIENT);
			if (new_unit && *new_unit)
				sqlite3_bind_text(ins, 4, new_unit, -1, SQLITE_TRANSIENT);
			if (vjson)
				sqlite3_bind_text(ins, 5, vjson, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 6, now, -1, SQLITE_STATIC);
			int rc = sqlite3_step(ins);
			sqlite3_finalize(ins);
			if (rc != SQLITE_DONE)
				st = lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
		}
	}
	if (!st) {
		char *q = sqlite3_mprintf("UPDATE columns SET label = %Q WHERE dataset = %Q AND name = %Q",
					  new_label && *new_label ? new_label : NULL, dataset, c->name);
		st = store_exec(db, q, err);
		sqlite3_free(q);
	}
	if (!st && d.len) {
		char *detail = xasprintf("%s.%s: %s", dataset, c->name, d.data);
		st = store_log_access(db, "label", 0, detail, err);
		free(detail);
	}
	buf_free(&d);
	free(vjson);
	free(old_values);
	free(new_values);
	store_columns_free(&cols);
	return st;
}

/* ---- the labels CSV ---- */

typedef struct lbl_csv {
	sqlite3 *db;
	const char *name;
	int ci, li, ui, vi, di; /* field index of column, label, unit, values, dataset; -1 */
	int n;
} lbl_csv;

static int csv_row(void *ctx, const csvin_row *row, lm_err *err)
{
	lbl_csv *s = ctx;
	if (row->record == 1) {
		s->ci = s->li = s->ui = s->vi = s->di = -1;
		for (int i = 0; i < row->n; i++) {
			const char *h = row->f[i].s;
			int *slot = !strcmp(h, "column") ? &s->ci : !strcmp(h, "label") ? &s->li
				  : !strcmp(h, "unit")	 ? &s->ui : !strcmp(h, "values") ? &s->vi
				  : !strcmp(h, "dataset") ? &s->di : NULL;
			if (!slot)
				return csvin_error_at(err, s->name, row->f[i].line, row->f[i].col,
						      "unknown heading '%s' (column, label, unit, values, "
						      "dataset)", h);
			*slot = i;
		}
		if (s->ci < 0)
			return csvin_error_at(err, s->name, 1, 1, "no 'column' heading (the header is "
						  "column,label,unit,values)");
		return 0;
	}
	const csvin_field *cf = &row->f[s->ci];
	if (!*cf->s)
		return csvin_error_at(err, s->name, cf->line, cf->col, "empty column name");
	const char *dataset = "patients";
	if (s->di >= 0 && *row->f[s->di].s) {
		dataset = row->f[s->di].s;
		if (strcmp(dataset, "patients") && strcmp(dataset, "visits"))
			return csvin_error_at(err, s->name, row->f[s->di].line, row->f[s->di].col,
					      "dataset '%s' (patients or visits)", dataset);
		if (!strcmp(dataset, "visits") && !store_has_table(s->db, "visits"))
			return csvin_error_at(err, s->name, row->f[s->di].line, row->f[s->di].col,
					      "the workbench has no visits");
	}
	/* the place of an error: the values field for a bad value, else the column field */
	char where_col[300], where_val[300];
	snprintf(where_col, sizeof where_col, "%s:%ld:%ld", s->name, cf->line, cf->col);
	if (s->vi >= 0)
		snprintf(where_val, sizeof where_val, "%s:%ld:%ld", s->name, row->f[s->vi].line,
			 row->f[s->vi].col);
	store_columns cols;
	int st = store_columns_load(s->db, dataset, &cols, err);
	if (st)
		return st;
	int known = store_columns_find(&cols, cf->s) >= 0;
	store_columns_free(&cols);
	if (!known)
		return csvin_error_at(err, s->name, cf->line, cf->col, "no column '%s' in %s", cf->s,
				      dataset);
	const char *label = s->li >= 0 ? row->f[s->li].s : NULL;
	const char *unit = s->ui >= 0 ? row->f[s->ui].s : NULL;
	const char *values = s->vi >= 0 ? row->f[s->vi].s : NULL;
	st = lbl_set(s->db, dataset, cf->s, label, unit, values, s->vi >= 0 ? where_val : where_col,
		     err);
	if (!st)
		s->n++;
	return st;
}

int lbl_import_csv(sqlite3 *db, const char *path, int *ncolumns, lm_err *err)
{
	lbl_csv s = {.db = db, .name = path};
	int st = csvin_read_file(path, path, 0, csv_row, &s, NULL, NULL, err);
	if (!st && ncolumns)
		*ncolumns = s.n;
	return st;
}

cJSON *lbl_json(const store_columns *cols)
{
	cJSON *a = NULL;
	for (int i = 0; i < cols->n; i++) {
		const store_column *c = &cols->c[i];
		if (!c->label && !c->unit && !c->nvl)
			continue;
		if (!a)
			a = cJSON_CreateArray();
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "column", c->name);
		if (c->label)
			cJSON_AddStringToObject(o, "label", c->label);
		else
			cJSON_AddNullToObject(o, "label");
		if (c->unit)
			cJSON_AddStringToObject(o, "unit", c->unit);
		else
			cJSON_AddNullToObject(o, "unit");
		cJSON *v = cJSON_AddArrayToObject(o, "values");
		for (int j = 0; j < c->nvl; j++) {
			cJSON *it = cJSON_CreateObject();
			cJSON_AddStringToObject(it, "code", c->vl[j].code);
			cJSON_AddStringToObject(it, "label", c->vl[j].text);
			cJSON_AddItemToArray(v, it);
		}
		cJSON_AddItemToArray(a, o);
	}
	return a;
}
