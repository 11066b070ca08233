/* api_report.c: the `report` table a script sees (report.title, heading, paragraph, table,
 * bar, attribution, line, km): Lua values checked and converted into the host's report
 * document (lua/report.c builds and renders it). Split from api.c, which binds the data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hostint.h"

/* ---- report ---- */

static report *rep(lua_State *L) { return &host_of(L)->rep; }

/* Report content lives in C (report.h) but counts against the script's memory cap: a block
 * and its strings, charged before they are copied. */
#define BLOCK_BYTES (sizeof(report_block) + 64)
static size_t str_bytes(const char *s) { return s ? strlen(s) + 1 + 16 : 0; }

static int r_title(lua_State *L)
{
	const char *t = luaL_checkstring(L, 1);
	host_charge(L, BLOCK_BYTES + str_bytes(t), 1);
	report_title(rep(L), t);
	return 0;
}

static int r_heading(lua_State *L)
{
	const char *t = luaL_checkstring(L, 1);
	int level = (int)luaL_optinteger(L, 2, 2);
	host_charge(L, BLOCK_BYTES + str_bytes(t), 1);
	report_heading(rep(L), t, level);
	return 0;
}

static int r_paragraph(lua_State *L)
{
	const char *t = luaL_checkstring(L, 1);
	host_charge(L, BLOCK_BYTES + str_bytes(t), 1);
	report_paragraph(rep(L), t);
	return 0;
}

/* The text of a table cell: nil empty, integers as integers, other numbers with 6 significant
 * digits, the rest through tostring. Pushes it. */
static const char *cell_text(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	if (lua_isnil(L, idx))
		return lua_pushliteral(L, "");
	if (lua_type(L, idx) == LUA_TNUMBER && !lua_isinteger(L, idx)) {
		char b[64];
		snprintf(b, sizeof b, "%.6g", (double)lua_tonumber(L, idx));
		return lua_pushstring(L, b);
	}
	return luaL_tolstring(L, idx, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Data tables (rows, labels, values, series) are read raw, with lua_rawlen and lua_rawgeti:
 * a __len or __index could change between a length check and a copy. Every string kept while
 * C works is anchored in a table of our own (keep) that the script cannot reach. */
#define REPORT_MAX_LEN 10000000 /* entries in one list of a report call */

/* The raw length of the table at idx, refused when absurd. */
static int data_len(lua_State *L, int idx, const char *fname, const char *what)
{
	size_t n = lua_rawlen(L, idx);
	if (n > REPORT_MAX_LEN)
		luaL_error(L, "%s: %s has %I entries (at most %d)", fname, what, (lua_Integer)n,
			   REPORT_MAX_LEN);
	return (int)n;
}

/* Appends the value on top of the stack to the table at keep (popping it) and returns it as a
 * string (numbers converted), valid while keep lives. */
static const char *keep_top(lua_State *L, int keep)
{
	const char *s = lua_tostring(L, -1);
	lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1);
	return s;
}

/* report.table(rows [, {columns = {...}, caption = "..."}]). Rows are lists (the first row is
 * the header unless columns are given) or records (columns, or the first row's keys sorted). */
static int r_table(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	lua_newtable(L); /* 3: keep */
	const int keep = 3, cols = 4;
	int nrow = data_len(L, 1, "report.table", "rows");
	for (int i = 1; i <= nrow; i++)
		if (lua_rawgeti(L, 1, i) != LUA_TTABLE)
			return luaL_error(L, "report.table: row %d is a %s, not a table", i,
					  luaL_typename(L, -1));
		else
			lua_pop(L, 1);
	const char *caption = NULL;
	int have_cols = 0;
	if (lua_istable(L, 2)) {
		int t = lua_getfield(L, 2, "caption");
		if (t == LUA_TSTRING)
			caption = keep_top(L, keep);
		else if (t != LUA_TNIL)
			return luaL_error(L, "report.table: caption must be a string");
		else
			lua_pop(L, 1);
		have_cols = lua_getfield(L, 2, "columns") == LUA_TTABLE; /* 4 */
		if (!have_cols && !lua_isnil(L, -1))
			return luaL_error(L, "report.table: columns must be a list of names");
		if (!have_cols)
			lua_pop(L, 1);
	}
	int first_is_head = 0;
	if (!have_cols) { /* build the column list at index 4 */
		lua_newtable(L);
		if (nrow > 0) {
			lua_rawgeti(L, 1, 1);
			int len = data_len(L, -1, "report.table", "row 1");
			if (len > 0) {
				first_is_head = 1;
				for (int k = 1; k <= len; k++) {
					lua_rawgeti(L, -1, k);
					cell_text(L, -1);
					lua_rawseti(L, cols, k);
					lua_pop(L, 1);
				}
			} else {
				int nk = 0, cap = 8;
				char **keys = xmallocarray((size_t)cap, sizeof *keys);
				lua_pushnil(L);
				while (lua_next(L, -2)) {
					lua_pop(L, 1);
					if (lua_type(L, -1) != LUA_TSTRING)
						continue;
					if (nk == cap)
						keys = xreallocarray(keys, (size_t)(cap *= 2), sizeof *keys);
					keys[nk++] = xstrdup(lua_tostring(L, -1));
				}
				qsort(keys, (size_t)nk, sizeof *keys, cmp_str);
				for (int k = 0; k < nk; k++) {
					lua_pushstring(L, keys[k]);
					lua_rawseti(L, cols, k + 1);
					free(keys[k]);
				}
				free(keys);
			}
			lua_pop(L, 1);
		}
	}
	int ncol = data_len(L, cols, "report.table", "columns");
	if (ncol == 0)
		return luaL_error(L, "report.table: no columns (give rows or {columns = {...}})");
	/* the C arrays are userdata, so that an error in a __tostring frees them */
	const char **head = lua_newuserdatauv(L, (size_t)ncol * sizeof *head, 0);
	size_t bytes = BLOCK_BYTES + str_bytes(caption);
	for (int k = 0; k < ncol; k++) {
		lua_rawgeti(L, cols, k + 1);
		cell_text(L, -1);
		head[k] = keep_top(L, keep);
		bytes += str_bytes(head[k]) + sizeof(char *);
		lua_pop(L, 1);
	}
	int first = first_is_head ? 2 : 1;
	int nr = nrow - first + 1;
	if (nr < 0)
		nr = 0;
	if ((double)nr * ncol > REPORT_MAX_LEN)
		return luaL_error(L, "report.table: %d rows of %d columns (at most %d cells)", nr,
				  ncol, REPORT_MAX_LEN);
	const char **cells = lua_newuserdatauv(L, ((size_t)nr * (size_t)ncol + 1) * sizeof *cells, 0);
	for (int j = 0; j < nr; j++) {
		/* a __tostring may have replaced the row since the check above */
		if (lua_rawgeti(L, 1, first + j) != LUA_TTABLE)
			return luaL_error(L, "report.table: row %d is a %s, not a table", first + j,
					  luaL_typename(L, -1));
		int row = lua_gettop(L);
		int is_list = lua_rawlen(L, row) > 0;
		for (int k = 0; k < ncol; k++) {
			if (is_list && !have_cols)
				lua_rawgeti(L, row, k + 1);
			else if (lua_getfield(L, row, head[k]) == LUA_TNIL && is_list) {
				lua_pop(L, 1);
				lua_rawgeti(L, row, k + 1);
			}
			cell_text(L, -1);
			const char *c = keep_top(L, keep);
			cells[(size_t)j * (size_t)ncol + (size_t)k] = c;
			bytes += str_bytes(c) + sizeof(char *);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		if ((j & 255) == 0)
			host_check_deadline(L);
	}
	host_charge(L, bytes, 1);
	report_table(rep(L), caption, ncol, head, nr, cells);
	return 0;
}

/* Reads a list of numbers (field key of the table at idx) into a userdata it leaves on the
 * stack; *n its length. */
static double *number_list(lua_State *L, int idx, const char *key, const char *fname, int *n)
{
	idx = lua_absindex(L, idx);
	if (lua_getfield(L, idx, key) != LUA_TTABLE)
		luaL_error(L, "%s: %s must be a list of numbers", fname, key);
	int len = data_len(L, -1, fname, key);
	double *v = lua_newuserdatauv(L, (size_t)(len ? len : 1) * sizeof *v, 0);
	for (int i = 0; i < len; i++) {
		if ((i & 65535) == 0)
			host_check_deadline(L);
		/* nil and false (lumen.survival's "undefined") leave a gap */
		int t = lua_rawgeti(L, -2, i + 1);
		int gap = t == LUA_TNIL || (t == LUA_TBOOLEAN && !lua_toboolean(L, -1));
		if (t != LUA_TNUMBER && !gap)
			luaL_error(L, "%s: %s[%d] is a %s, not a number", fname, key, i + 1,
				   lua_typename(L, t));
		v[i] = gap ? (double)NAN : lua_tonumber(L, -1);
		lua_pop(L, 1);
	}
	lua_remove(L, -2);
	*n = len;
	return v;
}

/* An optional string option, read once and anchored in keep; NULL when absent. */
static const char *opt_string(lua_State *L, int idx, const char *key, const char *fname,
			      int keep)
{
	int t = lua_getfield(L, idx, key);
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return NULL;
	}
	if (t != LUA_TSTRING && t != LUA_TNUMBER)
		luaL_error(L, "%s: %s must be a string", fname, key);
	return keep_top(L, keep);
}

/* An optional {lo, hi} option (lo < hi): 1 when given. */
static int opt_pair(lua_State *L, int idx, const char *key, const char *fname, double *out)
{
	int t = lua_getfield(L, idx, key);
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	int ok = t == LUA_TTABLE && lua_rawgeti(L, -1, 1) == LUA_TNUMBER &&
		 lua_rawgeti(L, -2, 2) == LUA_TNUMBER;
	if (ok) {
		out[0] = lua_tonumber(L, -2);
		out[1] = lua_tonumber(L, -1);
		ok = out[0] < out[1];
	}
	if (!ok)
		luaL_error(L, "%s: %s must be {lo, hi} with lo < hi", fname, key);
	lua_pop(L, 3);
	return 1;
}

static int opt_bool(lua_State *L, int idx, const char *key)
{
	lua_getfield(L, idx, key);
	int v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* An optional list of numbers: NULL (and *n 0) when absent; else as number_list. */
static double *opt_numbers(lua_State *L, int idx, const char *key, const char *fname, int *n)
{
	idx = lua_absindex(L, idx);
	/* raw: an optional field comes from the table itself, never from an __index that
	 * answers every key */
	lua_pushstring(L, key);
	int t = lua_rawget(L, idx);
	lua_pop(L, 1);
	*n = 0;
	if (t == LUA_TNIL) {
		lua_pushnil(L); /* keeps the stack shape of number_list */
		return NULL;
	}
	return number_list(L, idx, key, fname, n);
}

static int bars(lua_State *L, report_chart kind, const char *fname)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_newtable(L);
	const int keep = 2, lab = 3;
	const char *title = opt_string(L, 1, "title", fname, keep);
	if (lua_getfield(L, 1, "labels") != LUA_TTABLE) /* 3 */
		return luaL_error(L, "%s: labels must be a list", fname);
	int n = data_len(L, lab, fname, "labels");
	int nv;
	double *v = number_list(L, 1, "values", fname, &nv);
	if (nv != n)
		return luaL_error(L, "%s: %d labels but %d values", fname, n, nv);
	const char **labels = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *labels, 0);
	size_t bytes = BLOCK_BYTES + str_bytes(title) + (size_t)n * sizeof(double);
	for (int i = 0; i < n; i++) {
		int t = lua_rawgeti(L, lab, i + 1);
		if (t != LUA_TSTRING && t != LUA_TNUMBER)
			return luaL_error(L, "%s: labels[%d] is a %s, not a string", fname, i + 1,
					  luaL_typename(L, -1));
		labels[i] = keep_top(L, keep);
		bytes += str_bytes(labels[i]) + sizeof(char *);
	}
	double rg[2];
	int has_rg = opt_pair(L, 1, "range", fname, rg);
	host_charge(L, bytes, 1);
	report_bars(rep(L), kind, title, n, labels, v);
	if (has_rg)
		report_set_range(rep(L), rg[0], rg[1]);
	return 0;
}

static int r_bar(lua_State *L) { return bars(L, CHART_BAR, "report.bar"); }
static int r_attribution(lua_State *L) { return bars(L, CHART_ATTR, "report.attribution"); }

typedef struct xy_series {
	const char *name;
	int n, ncens, nrisk;
	const double *x, *y, *lo, *hi, *cens, *risk;
} xy_series;

static int xy(lua_State *L, report_chart kind, const char *fname)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_newtable(L);
	const int keep = 2, ser = 3;
	const char *title = opt_string(L, 1, "title", fname, keep);
	const char *xl = opt_string(L, 1, "xlabel", fname, keep);
	const char *yl = opt_string(L, 1, "ylabel", fname, keep);
	if (lua_getfield(L, 1, "series") != LUA_TTABLE) /* 3 */
		return luaL_error(L, "%s: series must be a list of {name=, x=, y=}", fname);
	int ns = data_len(L, ser, fname, "series");
	xy_series *sv = lua_newuserdatauv(L, (size_t)(ns ? ns : 1) * sizeof *sv, 0);
	/* every series is read once, before the chart is added: an error leaves the report
	 * unchanged, and what was checked is what is copied */
	for (int s = 0; s < ns; s++) {
		if (lua_rawgeti(L, ser, s + 1) != LUA_TTABLE)
			return luaL_error(L, "%s: series[%d] must be a table", fname, s + 1);
		int one = lua_gettop(L), nx, ny;
		sv[s].x = number_list(L, one, "x", fname, &nx);
		lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1);
		sv[s].y = number_list(L, one, "y", fname, &ny);
		lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1);
		host_check_deadline(L);
		if (nx != ny)
			return luaL_error(L, "%s: series[%d] has %d x but %d y", fname, s + 1, nx,
					  ny);
		sv[s].n = nx;
		/* Kaplan-Meier extras: a band (lower, upper), censoring times, numbers at risk */
		int nl, nu;
		sv[s].lo = opt_numbers(L, one, "lower", fname, &nl);
		lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1);
		sv[s].hi = opt_numbers(L, one, "upper", fname, &nu);
		lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1);
		if ((sv[s].lo || sv[s].hi) && (nl != nx || nu != nx))
			return luaL_error(L, "%s: series[%d] needs lower and upper of %d values each",
					  fname, s + 1, nx);
		sv[s].cens = opt_numbers(L, one, "censor", fname, &sv[s].ncens);
		lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1);
		sv[s].risk = opt_numbers(L, one, "at_risk", fname, &sv[s].nrisk);
		lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1);
		sv[s].name = opt_string(L, one, "name", fname, keep);
		lua_pop(L, 1);
	}
	int nrt = 0;
	const double *rt = opt_numbers(L, 1, "at_risk_times", fname, &nrt);
	lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1);
	for (int s = 0; s < ns; s++)
		if (sv[s].risk && sv[s].nrisk != nrt)
			return luaL_error(L, "%s: series[%d] has %d at_risk counts for %d at_risk_times",
					  fname, s + 1, sv[s].nrisk, nrt);
	size_t bytes = BLOCK_BYTES + str_bytes(title) + str_bytes(xl) + str_bytes(yl) +
		       sizeof(double) * (size_t)nrt;
	for (int s = 0; s < ns; s++)
		bytes += sizeof(report_series) + str_bytes(sv[s].name) +
			 sizeof(double) * (2 * (size_t)sv[s].n + (sv[s].lo ? 2 * (size_t)sv[s].n : 0) +
					   (size_t)sv[s].ncens + (size_t)sv[s].nrisk);
	host_charge(L, bytes, 1);
	report_xy(rep(L), kind, title, xl, yl);
	if (opt_bool(L, 1, "ideal"))
		report_set_ideal(rep(L));
	for (int s = 0; s < ns; s++) {
		report_add_series(rep(L), sv[s].name ? sv[s].name : "", sv[s].n, sv[s].x, sv[s].y);
		if (sv[s].lo)
			report_series_band(rep(L), sv[s].lo, sv[s].hi);
		if (sv[s].cens)
			report_series_censor(rep(L), sv[s].ncens, sv[s].cens);
		if (sv[s].risk) {
			long *cnt = xmallocarray((size_t)(nrt ? nrt : 1), sizeof *cnt);
			for (int k = 0; k < nrt; k++)
				cnt[k] = isnan(sv[s].risk[k]) ? 0 : (long)sv[s].risk[k];
			report_series_at_risk(rep(L), nrt, rt, cnt);
			free(cnt);
		}
	}
	return 0;
}

/* report.interval{title=, xlabel=, labels=, values=, lower=, upper=, band={lo, hi},
 * log=true, reference=1, range={lo, hi}} */
static int r_interval(lua_State *L)
{
	const char *fname = "report.interval";
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_newtable(L);
	const int keep = 2, lab = 3;
	const char *title = opt_string(L, 1, "title", fname, keep);
	const char *xl = opt_string(L, 1, "xlabel", fname, keep);
	if (lua_getfield(L, 1, "labels") != LUA_TTABLE) /* 3 */
		return luaL_error(L, "%s: labels must be a list", fname);
	int n = data_len(L, lab, fname, "labels"), nv, nl, nu;
	double *v = number_list(L, 1, "values", fname, &nv);
	lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1);
	double *lo = number_list(L, 1, "lower", fname, &nl);
	lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1);
	double *hi = number_list(L, 1, "upper", fname, &nu);
	lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1);
	if (nv != n || nl != n || nu != n)
		return luaL_error(L, "%s: %d labels but %d values, %d lower, %d upper", fname, n, nv,
				  nl, nu);
	const char **labels = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *labels, 0);
	lua_rawseti(L, keep, (lua_Integer)lua_rawlen(L, keep) + 1);
	size_t bytes = BLOCK_BYTES + str_bytes(title) + str_bytes(xl) + 3 * (size_t)n * sizeof(double);
	for (int i = 0; i < n; i++) {
		int t = lua_rawgeti(L, lab, i + 1);
		if (t != LUA_TSTRING && t != LUA_TNUMBER)
			return luaL_error(L, "%s: labels[%d] is a %s, not a string", fname, i + 1,
					  luaL_typename(L, -1));
		labels[i] = keep_top(L, keep);
		bytes += str_bytes(labels[i]) + sizeof(char *);
	}
	double band[2] = {(double)NAN, (double)NAN}, rg[2];
	opt_pair(L, 1, "band", fname, band);
	int has_rg = opt_pair(L, 1, "range", fname, rg);
	int lg = opt_bool(L, 1, "log");
	lua_getfield(L, 1, "reference");
	double ref = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : (double)NAN;
	lua_pop(L, 1);
	host_charge(L, bytes, 1);
	report_intervals(rep(L), title, xl, n, labels, v, lo, hi);
	report_set_band(rep(L), band[0], band[1], lg, ref);
	if (has_rg)
		report_set_range(rep(L), rg[0], rg[1]);
	return 0;
}

static int r_line(lua_State *L) { return xy(L, CHART_LINE, "report.line"); }
static int r_km(lua_State *L) { return xy(L, CHART_KM, "report.km"); }
static int r_scatter(lua_State *L) { return xy(L, CHART_SCATTER, "report.scatter"); }
static int r_beeswarm(lua_State *L) { return xy(L, CHART_BEESWARM, "report.beeswarm"); }

const luaL_Reg host_report_funcs[] = {
	{"title", r_title}, {"heading", r_heading}, {"paragraph", r_paragraph},
	{"table", r_table}, {"bar", r_bar},         {"attribution", r_attribution},
	{"line", r_line},   {"km", r_km},           {"interval", r_interval},
	{"scatter", r_scatter}, {"beeswarm", r_beeswarm}, {NULL, NULL}};
