/* ops_filter.c: the one filter language of the TUI's prompt, `lumen query --where` and
 * lumen.patients{where = "..."} (grammar and logic in ops.h). An expression is parsed once
 * into a small tree, the columns it names are loaded with frame_load, and the tree is
 * evaluated per patient with SQL's three-valued logic. The same tree is also written out as
 * a SQL WHERE clause (ops_filter_sql), which gives the same answers: the tests count both. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

enum { N_NUM, N_STR, N_BOOL, N_NIL, N_COL, N_RISK, N_LABEL, N_OUTCOME, N_ROWID, N_NOT, N_NEG,
       N_ADD, N_SUB, N_MUL, N_DIV, N_EQ, N_NE, N_LT, N_LE, N_GT, N_GE, N_AND, N_OR, N_CALL,
       N_WORD };

enum { F_FLOOR, F_CEIL, F_ABS, F_SQRT, F_LOG, F_EXP, F_MIN, F_MAX };
static const char *const fn_name[] = {"floor", "ceil", "abs", "sqrt", "log", "exp", "min", "max"};
static const int fn_args[] = {1, 1, 1, 1, 1, 1, 2, 2};

typedef struct node {
	int kind;
	int a, b;       /* children (node indices), -1 none */
	double num;
	char *str;      /* N_STR, N_WORD: the text; N_COL: the column name */
	int col;        /* N_COL: frame column; N_CALL: function */
	int pos;        /* 1-based column in the expression, for messages */
} node;

struct ops_filter {
	char *expr;
	node *n;
	int nn, cap, root;
	/* the columns named, loaded at compile time */
	store_columns cols;
	char **names;
	int nnames;
	frame f;
	int have_frame;
	ops_predictions pr;
	int have_pr;
	char *model;
	char *sql;
};

typedef struct parser {
	ops_filter *f;
	const char *s;
	size_t i;
	lm_err *err;
	int failed;
} parser;

static int fail(parser *p, size_t at, const char *fmt, const char *arg)
{
	if (!p->failed) {
		char msg[200];
		snprintf(msg, sizeof msg, fmt, arg);
		lm_seterr(p->err, EX_DATAERR, "where:1:%zu: %s", at + 1, msg);
	}
	p->failed = 1;
	return -1;
}

static int add(parser *p, int kind, int a, int b, size_t pos)
{
	ops_filter *f = p->f;
	if (f->nn == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 16;
		f->n = xreallocarray(f->n, (size_t)f->cap, sizeof *f->n);
	}
	node *n = &f->n[f->nn];
	memset(n, 0, sizeof *n);
	n->kind = kind, n->a = a, n->b = b, n->pos = (int)pos + 1, n->col = -1;
	return f->nn++;
}

static void skip(parser *p)
{
	while (p->s[p->i] && isspace((unsigned char)p->s[p->i]))
		p->i++;
}

/* Consumes the operator or keyword tok when it comes next (keywords whole words only). */
static int accept(parser *p, const char *tok)
{
	skip(p);
	size_t n = strlen(tok);
	if (strncmp(p->s + p->i, tok, n))
		return 0;
	if (isalpha((unsigned char)tok[0]) &&
	    (isalnum((unsigned char)p->s[p->i + n]) || p->s[p->i + n] == '_'))
		return 0;
	p->i += n;
	return 1;
}

static const char *near(parser *p, char *buf, size_t len)
{
	skip(p);
	if (!p->s[p->i])
		return "<eof>";
	size_t k = 0;
	while (p->s[p->i + k] && !isspace((unsigned char)p->s[p->i + k]) && k + 1 < len && k < 12)
		k++;
	snprintf(buf, len, "%.*s", (int)k, p->s + p->i);
	return buf;
}

static int parse_or(parser *p);

static int parse_string(parser *p)
{
	size_t at = p->i;
	char q = p->s[p->i++];
	lm_buf b = {0};
	while (p->s[p->i] && p->s[p->i] != q) {
		char c = p->s[p->i++];
		if (c == '\\' && p->s[p->i]) {
			c = p->s[p->i++];
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
		}
		buf_add(&b, &c, 1);
	}
	if (p->s[p->i] != q) {
		buf_free(&b);
		return fail(p, at, "unfinished string%s", "");
	}
	p->i++;
	int k = add(p, N_STR, -1, -1, at);
	p->f->n[k].str = b.data ? b.data : xstrdup("");
	return k;
}

static int parse_primary(parser *p)
{
	skip(p);
	size_t at = p->i;
	char c = p->s[p->i];
	char nb[32];
	if (c == '(') {
		p->i++;
		int e = parse_or(p);
		if (e < 0)
			return -1;
		if (!accept(p, ")"))
			return fail(p, p->i, "')' expected near '%s'", near(p, nb, sizeof nb));
		return e;
	}
	if (c == '"' || c == '\'')
		return parse_string(p);
	if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)p->s[p->i + 1]))) {
		char *end;
		double v = strtod(p->s + p->i, &end);
		p->i = (size_t)(end - p->s);
		if (isalpha((unsigned char)p->s[p->i]))
			return fail(p, at, "malformed number near '%s'", near(p, nb, sizeof nb));
		int k = add(p, N_NUM, -1, -1, at);
		p->f->n[k].num = v;
		return k;
	}
	if (isalpha((unsigned char)c) || c == '_') {
		size_t e = p->i;
		while (isalnum((unsigned char)p->s[e]) || p->s[e] == '_')
			e++;
		char *w = xasprintf("%.*s", (int)(e - p->i), p->s + p->i);
		p->i = e;
		int k;
		if (!strcmp(w, "true") || !strcmp(w, "false")) {
			k = add(p, N_BOOL, -1, -1, at);
			p->f->n[k].num = w[0] == 't';
		} else if (!strcmp(w, "nil")) {
			k = add(p, N_NIL, -1, -1, at);
		} else if (!strcmp(w, "and") || !strcmp(w, "or") || !strcmp(w, "not")) {
			free(w);
			return fail(p, at, "unexpected symbol near '%s'", p->s[at] ? "and/or/not" : "<eof>");
		} else if (!strcmp(w, "p") && (p->s[p->i] == '.' || p->s[p->i] == '[')) {
			/* p.NAME or p["NAME"]: a column by name */
			char *name = NULL;
			if (p->s[p->i] == '.') {
				size_t s0 = ++p->i;
				while (isalnum((unsigned char)p->s[p->i]) || p->s[p->i] == '_')
					p->i++;
				if (p->i == s0) {
					free(w);
					return fail(p, s0, "a name expected after 'p.'%s", "");
				}
				name = xasprintf("%.*s", (int)(p->i - s0), p->s + s0);
			} else {
				p->i++;
				skip(p);
				if (p->s[p->i] != '"' && p->s[p->i] != '\'') {
					free(w);
					return fail(p, p->i, "a quoted column name expected after 'p['%s", "");
				}
				int sk = parse_string(p);
				if (sk < 0) {
					free(w);
					return -1;
				}
				name = p->f->n[sk].str;
				p->f->n[sk].str = NULL;
				p->f->nn--;
				if (!accept(p, "]")) {
					free(w);
					free(name);
					return fail(p, p->i, "']' expected near '%s'", near(p, nb, sizeof nb));
				}
			}
			k = add(p, N_COL, -1, -1, at);
			p->f->n[k].str = name;
		} else if (!strcmp(w, "math") && p->s[p->i] == '.') {
			size_t s0 = ++p->i;
			while (isalnum((unsigned char)p->s[p->i]))
				p->i++;
			char *fname = xasprintf("%.*s", (int)(p->i - s0), p->s + s0);
			int fi = -1;
			for (int q = 0; q < (int)LM_ARRAY_LEN(fn_name); q++)
				if (!strcmp(fn_name[q], fname))
					fi = q;
			if (fi < 0) {
				fail(p, s0, "unknown function 'math.%s' (floor, ceil, abs, sqrt, log, exp, min, max)",
				     fname);
				free(fname);
				free(w);
				return -1;
			}
			free(fname);
			if (!accept(p, "(")) {
				free(w);
				return fail(p, p->i, "'(' expected after math.%s", fn_name[fi]);
			}
			int a = parse_or(p), b = -1;
			if (a >= 0 && fn_args[fi] == 2) {
				if (!accept(p, ","))
					a = fail(p, p->i, "math.%s takes two arguments", fn_name[fi]);
				else
					b = parse_or(p);
			}
			if (a < 0 || (fn_args[fi] == 2 && b < 0)) {
				free(w);
				return -1;
			}
			if (!accept(p, ")")) {
				free(w);
				return fail(p, p->i, "')' expected near '%s'", near(p, nb, sizeof nb));
			}
			k = add(p, N_CALL, a, b, at);
			p->f->n[k].col = fi;
		} else if (!strcmp(w, "function") || !strcmp(w, "end") || !strcmp(w, "while") ||
			   !strcmp(w, "do") || !strcmp(w, "return") || !strcmp(w, "local") ||
			   !strcmp(w, "if") || !strcmp(w, "then") || !strcmp(w, "for")) {
			fail(p, at, "'%s' is Lua, not the filter language (comparisons joined by and, or, not)",
			     w);
			free(w);
			return -1;
		} else if (p->s[p->i] == '(' || p->s[p->i] == '.' || p->s[p->i] == ':') {
			fail(p, at, "the filter language has no function '%s' (math.floor, ceil, abs, sqrt, "
				    "log, exp, min, max)", w);
			free(w);
			return -1;
		} else {
			/* a column, a model output, rowid, or a bare category: resolved after parsing */
			k = add(p, N_WORD, -1, -1, at);
			p->f->n[k].str = w;
			return k;
		}
		free(w);
		return k;
	}
	return fail(p, at, "unexpected symbol near '%s'", near(p, nb, sizeof nb));
}

static int parse_unary(parser *p)
{
	skip(p);
	size_t at = p->i;
	if (accept(p, "not")) {
		int a = parse_unary(p);
		return a < 0 ? -1 : add(p, N_NOT, a, -1, at);
	}
	if (p->s[p->i] == '-') {
		p->i++;
		int a = parse_unary(p);
		return a < 0 ? -1 : add(p, N_NEG, a, -1, at);
	}
	return parse_primary(p);
}

static int parse_mul(parser *p)
{
	int a = parse_unary(p);
	while (a >= 0) {
		skip(p);
		size_t at = p->i;
		int k = accept(p, "*") ? N_MUL : accept(p, "/") ? N_DIV : -1;
		if (k < 0)
			break;
		int b = parse_unary(p);
		a = b < 0 ? -1 : add(p, k, a, b, at);
	}
	return a;
}

static int parse_add(parser *p)
{
	int a = parse_mul(p);
	while (a >= 0) {
		skip(p);
		size_t at = p->i;
		int k = accept(p, "+") ? N_ADD : (p->s[p->i] == '-' && (p->i++, 1)) ? N_SUB : -1;
		if (k < 0)
			break;
		int b = parse_mul(p);
		a = b < 0 ? -1 : add(p, k, a, b, at);
	}
	return a;
}

static int parse_cmp(parser *p)
{
	int a = parse_add(p);
	while (a >= 0) {
		skip(p);
		size_t at = p->i;
		int k = accept(p, "==") ? N_EQ : accept(p, "~=") || accept(p, "!=") ? N_NE
			: accept(p, "<=") ? N_LE : accept(p, ">=") ? N_GE : accept(p, "<") ? N_LT
			: accept(p, ">") ? N_GT : -1;
		if (k < 0) {
			if (p->s[p->i] == '=' && p->s[p->i + 1] != '=') {
				p->i++; /* a single = reads as == (the TUI prompt always took it) */
				k = N_EQ;
			} else {
				break;
			}
		}
		int b = parse_add(p);
		a = b < 0 ? -1 : add(p, k, a, b, at);
	}
	return a;
}

static int parse_and(parser *p)
{
	int a = parse_cmp(p);
	while (a >= 0) {
		skip(p);
		size_t at = p->i;
		if (!accept(p, "and"))
			break;
		int b = parse_cmp(p);
		a = b < 0 ? -1 : add(p, N_AND, a, b, at);
	}
	return a;
}

static int parse_or(parser *p)
{
	int a = parse_and(p);
	while (a >= 0) {
		skip(p);
		size_t at = p->i;
		if (!accept(p, "or"))
			break;
		int b = parse_and(p);
		a = b < 0 ? -1 : add(p, N_OR, a, b, at);
	}
	return a;
}

/* ---- names ---- */

static int is_text_col(const ops_filter *f, int k)
{
	const node *n = &f->n[k];
	if (n->kind != N_COL)
		return 0;
	int c = store_columns_find(&f->cols, n->str);
	return c >= 0 && f->cols.c[c].type == COL_TYPE_TEXT;
}

/* Resolves every N_WORD: a column, risk/label/outcome, rowid, or (compared with == or ~= to
 * a text column) a category written bare. 0 or -1 with the error. */
static int resolve(parser *p, lm_err *err)
{
	ops_filter *f = p->f;
	/* first the names that are columns or outputs */
	for (int k = 0; k < f->nn; k++) {
		node *n = &f->n[k];
		if (n->kind != N_WORD)
			continue;
		if (store_columns_find(&f->cols, n->str) >= 0) {
			n->kind = N_COL;
		} else if (!strcmp(n->str, "risk") || !strcmp(n->str, "label") ||
			   !strcmp(n->str, "outcome")) {
			if (!f->model) {
				lm_seterr(err, EX_DATAERR,
					  "where:1:%d: '%s' needs a model (--model NAME, or the model shown)",
					  n->pos, n->str);
				return -1;
			}
			n->kind = n->str[0] == 'r' ? N_RISK : n->str[0] == 'l' ? N_LABEL : N_OUTCOME;
		} else if (!strcmp(n->str, "rowid")) {
			n->kind = N_ROWID;
		}
	}
	for (int k = 0; k < f->nn; k++) {
		node *n = &f->n[k];
		if ((n->kind == N_EQ || n->kind == N_NE) && n->b >= 0) {
			node *a = &f->n[n->a], *b = &f->n[n->b];
			if (b->kind == N_WORD && is_text_col(f, n->a))
				b->kind = N_STR;
			else if (a->kind == N_WORD && is_text_col(f, n->b))
				a->kind = N_STR;
		}
	}
	for (int k = 0; k < f->nn; k++) {
		node *n = &f->n[k];
		if (n->kind == N_WORD) {
			lm_seterr(err, EX_DATAERR, "where:1:%d: unknown name '%s' (not a column%s)", n->pos,
				  n->str, " nor a category of a text column it is compared with");
			return -1;
		}
		if (n->kind == N_COL && store_columns_find(&f->cols, n->str) < 0) {
			lm_seterr(err, EX_DATAERR, "where:1:%d: no column '%s'", n->pos, n->str);
			return -1;
		}
	}
	return 0;
}

/* ---- SQL ---- */

static int logical(const ops_filter *f, int k)
{
	int t = f->n[k].kind;
	return (t >= N_EQ && t <= N_OR) || t == N_NOT || t == N_BOOL;
}

static void sql_of(const ops_filter *f, int k, lm_buf *b)
{
	const node *n = &f->n[k];
	static const char *const ops[] = {[N_ADD] = "+", [N_SUB] = "-", [N_MUL] = "*",
					  [N_EQ] = "=", [N_NE] = "<>", [N_LT] = "<", [N_LE] = "<=",
					  [N_GT] = ">", [N_GE] = ">="};
	char *q;
	switch (n->kind) {
	case N_NUM: buf_printf(b, "%.17g", n->num); break;
	case N_BOOL: buf_puts(b, n->num ? "1" : "0"); break;
	case N_NIL: buf_puts(b, "NULL"); break;
	case N_STR:
		q = sqlite3_mprintf("%Q", n->str);
		buf_puts(b, q);
		sqlite3_free(q);
		break;
	case N_COL:
		q = sqlite3_mprintf("\"%w\"", n->str);
		buf_puts(b, q);
		sqlite3_free(q);
		break;
	case N_ROWID: buf_puts(b, "rowid"); break;
	case N_RISK:
	case N_LABEL:
	case N_OUTCOME:
		buf_printf(b, "(SELECT %s FROM predictions WHERE model_id = %ld AND patient = patients.rowid)",
			   n->kind == N_RISK ? "p" : n->kind == N_LABEL ? "p >= 0.5" : "y",
			   f->pr.model_id);
		break;
	case N_NOT: buf_puts(b, "(NOT "); sql_of(f, n->a, b); buf_puts(b, ")"); break;
	case N_NEG: buf_puts(b, "(- "); sql_of(f, n->a, b); buf_puts(b, ")"); break;
	case N_DIV: /* Lua's / is real division; SQL's on integers is not */
		buf_puts(b, "(CAST(");
		sql_of(f, n->a, b);
		buf_puts(b, " AS REAL) / NULLIF(");
		sql_of(f, n->b, b);
		buf_puts(b, ", 0))");
		break;
	case N_EQ:
	case N_NE:
		if (f->n[n->b].kind == N_NIL || f->n[n->a].kind == N_NIL) {
			buf_puts(b, "(");
			sql_of(f, f->n[n->b].kind == N_NIL ? n->a : n->b, b);
			buf_puts(b, n->kind == N_EQ ? " IS NULL)" : " IS NOT NULL)");
			break;
		}
		/* fall through */
	case N_ADD: case N_SUB: case N_MUL: case N_LT: case N_LE: case N_GT: case N_GE:
		buf_puts(b, "(");
		sql_of(f, n->a, b);
		buf_printf(b, " %s ", ops[n->kind]);
		sql_of(f, n->b, b);
		buf_puts(b, ")");
		break;
	case N_AND:
		buf_puts(b, "(");
		sql_of(f, n->a, b);
		buf_puts(b, " AND ");
		sql_of(f, n->b, b);
		buf_puts(b, ")");
		break;
	case N_OR:
		if (logical(f, n->a) && logical(f, n->b)) {
			buf_puts(b, "(");
			sql_of(f, n->a, b);
			buf_puts(b, " OR ");
			sql_of(f, n->b, b);
			buf_puts(b, ")");
		} else { /* a value with a default: x when true, else y */
			buf_puts(b, "(CASE WHEN ");
			sql_of(f, n->a, b);
			buf_puts(b, " THEN ");
			sql_of(f, n->a, b);
			buf_puts(b, " WHEN ");
			sql_of(f, n->b, b);
			buf_puts(b, " THEN ");
			sql_of(f, n->b, b);
			buf_puts(b, " WHEN (");
			sql_of(f, n->a, b);
			buf_puts(b, ") IS NULL THEN NULL ELSE ");
			sql_of(f, n->b, b);
			buf_puts(b, " END)");
		}
		break;
	case N_CALL:
		buf_printf(b, "%s(", fn_name[n->col]);
		sql_of(f, n->a, b);
		if (n->b >= 0) {
			buf_puts(b, ", ");
			sql_of(f, n->b, b);
		}
		buf_puts(b, ")");
		break;
	}
}

/* ---- evaluation ---- */

typedef struct val {
	char t; /* 'm' missing, 'n' number, 'b' boolean, 's' text */
	double n;
	const char *s;
} val;

static const val MISSING = {'m', 0, NULL};

static val num(double x) { return isnan(x) ? MISSING : (val){'n', x, NULL}; }
static val boolv(int x) { return (val){'b', x ? 1 : 0, NULL}; }

/* SQL's truth of a value: a number (or boolean) when nonzero, a text by its leading number. */
static int truth(val v, int *unknown)
{
	*unknown = v.t == 'm';
	if (v.t == 'm')
		return 0;
	if (v.t == 's')
		return strtod(v.s, NULL) != 0;
	return v.n != 0;
}

/* SQL's order: NULL first, then numbers (and booleans as 0/1), then text (binary). */
static int cmp_vals(val a, val b)
{
	int ra = a.t == 's' ? 1 : 0, rb = b.t == 's' ? 1 : 0;
	if (ra != rb)
		return ra - rb;
	if (ra)
		return strcmp(a.s, b.s);
	return (a.n > b.n) - (a.n < b.n);
}

static val eval(const ops_filter *f, int k, long r)
{
	const node *n = &f->n[k];
	switch (n->kind) {
	case N_NUM: return num(n->num);
	case N_BOOL: return boolv(n->num != 0);
	case N_NIL: return MISSING;
	case N_STR: return (val){'s', 0, n->str};
	case N_ROWID: return num((double)f->f.rowid[r]);
	case N_RISK: return num(f->pr.p[r]);
	case N_LABEL: return isnan(f->pr.p[r]) ? MISSING : boolv(f->pr.p[r] >= 0.5);
	case N_OUTCOME: return num(f->pr.y[r]);
	case N_COL: {
		const frame_col *c = &f->f.col[n->col];
		if (c->str)
			return c->str[r] ? (val){'s', 0, c->str[r]} : MISSING;
		double v = c->v[r];
		if (isnan(v))
			return MISSING;
		if (c->meta->type == COL_TYPE_TEXT)
			return (int)v >= 0 && (int)v < c->meta->ncat ? (val){'s', 0, c->meta->cats[(int)v]}
								    : MISSING;
		if (c->meta->type == COL_TYPE_BOOLEAN)
			return boolv(v != 0);
		return num(v);
	}
	case N_NOT: {
		int u, t = truth(eval(f, n->a, r), &u);
		return u ? MISSING : boolv(!t);
	}
	case N_NEG: {
		val a = eval(f, n->a, r);
		return a.t == 'm' || a.t == 's' ? MISSING : num(-a.n);
	}
	case N_ADD: case N_SUB: case N_MUL: case N_DIV: {
		val a = eval(f, n->a, r), b = eval(f, n->b, r);
		if (a.t == 'm' || b.t == 'm')
			return MISSING;
		double x = a.t == 's' ? strtod(a.s, NULL) : a.n, y = b.t == 's' ? strtod(b.s, NULL) : b.n;
		switch (n->kind) {
		case N_ADD: return num(x + y);
		case N_SUB: return num(x - y);
		case N_MUL: return num(x * y);
		default: return y == 0 ? MISSING : num(x / y);
		}
	}
	case N_EQ: case N_NE: case N_LT: case N_LE: case N_GT: case N_GE: {
		if ((n->kind == N_EQ || n->kind == N_NE) &&
		    (f->n[n->a].kind == N_NIL || f->n[n->b].kind == N_NIL)) {
			val x = eval(f, f->n[n->a].kind == N_NIL ? n->b : n->a, r);
			return boolv((x.t == 'm') == (n->kind == N_EQ));
		}
		val a = eval(f, n->a, r), b = eval(f, n->b, r);
		if (a.t == 'm' || b.t == 'm')
			return MISSING;
		int c = cmp_vals(a, b);
		switch (n->kind) {
		case N_EQ: return boolv(c == 0);
		case N_NE: return boolv(c != 0);
		case N_LT: return boolv(c < 0);
		case N_LE: return boolv(c <= 0);
		case N_GT: return boolv(c > 0);
		default: return boolv(c >= 0);
		}
	}
	case N_AND: {
		int ua, ub;
		int ta = truth(eval(f, n->a, r), &ua);
		if (!ua && !ta)
			return boolv(0);
		int tb = truth(eval(f, n->b, r), &ub);
		if (!ub && !tb)
			return boolv(0);
		return ua || ub ? MISSING : boolv(1);
	}
	case N_OR: {
		int ua, ub;
		val a = eval(f, n->a, r);
		int ta = truth(a, &ua);
		if (ta)
			return logical(f, n->a) ? boolv(1) : a;
		val b = eval(f, n->b, r);
		int tb = truth(b, &ub);
		if (tb)
			return logical(f, n->b) ? boolv(1) : b;
		if (ua)
			return MISSING; /* unknown or false/unknown */
		return logical(f, n->b) ? (ub ? MISSING : boolv(0)) : b;
	}
	case N_CALL: {
		val a = eval(f, n->a, r);
		val b = n->b >= 0 ? eval(f, n->b, r) : num(0);
		if (a.t == 'm' || b.t == 'm' || a.t == 's' || b.t == 's')
			return MISSING;
		switch (n->col) {
		case F_FLOOR: return num(floor(a.n));
		case F_CEIL: return num(ceil(a.n));
		case F_ABS: return num(fabs(a.n));
		case F_SQRT: return a.n < 0 ? MISSING : num(sqrt(a.n));
		case F_LOG: return a.n <= 0 ? MISSING : num(log(a.n));
		case F_EXP: return num(exp(a.n));
		case F_MIN: return num(fmin(a.n, b.n));
		default: return num(fmax(a.n, b.n));
		}
	}
	}
	return MISSING;
}

/* ---- the API ---- */

void ops_filter_free(ops_filter *f)
{
	if (!f)
		return;
	for (int k = 0; k < f->nn; k++)
		free(f->n[k].str);
	free(f->n);
	free(f->expr);
	store_columns_free(&f->cols);
	for (int k = 0; k < f->nnames; k++)
		free(f->names[k]);
	free(f->names);
	if (f->have_frame)
		frame_free(&f->f);
	ops_predictions_free(&f->pr);
	free(f->model);
	free(f->sql);
	free(f);
}

ops_filter *ops_filter_compile(sqlite3 *db, const char *expr, const char *model_name, lm_err *err)
{
	ops_filter *f = xcalloc(1, sizeof *f);
	f->expr = xstrdup(expr);
	f->model = model_name ? xstrdup(model_name) : NULL;
	if (store_columns_load(db, "patients", &f->cols, err)) {
		ops_filter_free(f);
		return NULL;
	}
	parser p = {f, f->expr, 0, err, 0};
	skip(&p);
	if (!f->expr[p.i]) {
		lm_seterr(err, EX_DATAERR, "where:1:1: an empty expression");
		ops_filter_free(f);
		return NULL;
	}
	f->root = parse_or(&p);
	if (f->root >= 0) {
		skip(&p);
		if (f->expr[p.i]) {
			char nb[32];
			f->root = fail(&p, p.i, "unexpected symbol near '%s'", near(&p, nb, sizeof nb));
		}
	}
	if (f->root < 0 || resolve(&p, err)) {
		ops_filter_free(f);
		return NULL;
	}
	/* the columns named, each once, in a frame */
	for (int k = 0; k < f->nn; k++) {
		node *n = &f->n[k];
		if (n->kind != N_COL)
			continue;
		int j;
		for (j = 0; j < f->nnames; j++)
			if (!strcmp(f->names[j], n->str))
				break;
		if (j == f->nnames) {
			f->names = xreallocarray(f->names, (size_t)f->nnames + 1, sizeof *f->names);
			f->names[f->nnames++] = xstrdup(n->str);
		}
		n->col = j;
	}
	if (frame_load(db, "patients", (const char *const *)f->names, f->nnames, &f->f, err)) {
		ops_filter_free(f);
		return NULL;
	}
	f->have_frame = 1;
	int need_pred = 0;
	for (int k = 0; k < f->nn; k++)
		need_pred |= f->n[k].kind == N_RISK || f->n[k].kind == N_LABEL || f->n[k].kind == N_OUTCOME;
	if (need_pred && ops_predictions_load(db, f->model, &f->pr, err)) {
		ops_filter_free(f);
		return NULL;
	}
	lm_buf b = {0};
	sql_of(f, f->root, &b);
	f->sql = b.data;
	return f;
}

const char *ops_filter_sql(const ops_filter *f)
{
	return f->sql;
}

void ops_selection_free(ops_selection *s)
{
	if (!s)
		return;
	free(s->mask);
	free(s->rowid);
	free(s->rows);
	free(s->expr);
	memset(s, 0, sizeof *s);
}

static int all_rowids(sqlite3 *db, ops_selection *out, lm_err *err)
{
	sqlite3_stmt *st = store_prepare(db, "SELECT rowid FROM patients ORDER BY rowid", err);
	if (!st)
		return err->status;
	long cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->nrow == cap) {
			cap = cap ? 2 * cap : 1024;
			out->rowid = xreallocarray(out->rowid, (size_t)cap, sizeof *out->rowid);
		}
		out->rowid[out->nrow++] = (long)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
	return 0;
}

int ops_filter_run(ops_filter *f, sqlite3 *db, ops_selection *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	if (f) {
		out->nrow = f->f.nrow;
		out->rowid = xmallocarray((size_t)(out->nrow ? out->nrow : 1), sizeof *out->rowid);
		memcpy(out->rowid, f->f.rowid, (size_t)out->nrow * sizeof *out->rowid);
		out->expr = xstrdup(f->expr);
	} else {
		int st = all_rowids(db, out, err);
		if (st)
			return st;
		if (!out->rowid)
			out->rowid = xmalloc(sizeof *out->rowid);
	}
	size_t n = (size_t)(out->nrow ? out->nrow : 1);
	out->mask = xcalloc(n, 1);
	out->rows = xmallocarray(n, sizeof *out->rows);
	if (f && f->have_pr == 0 && f->pr.n && f->pr.n != f->f.nrow)
		return lm_seterr(err, EX_SOFTWARE, "predictions of %ld patients for %ld rows",
				 f->pr.n, f->f.nrow);
	for (long r = 0; r < out->nrow; r++) {
		int u, m = 1;
		if (f)
			m = truth(eval(f, f->root, r), &u) && !u;
		if (m) {
			out->mask[r] = 1;
			out->rows[out->n++] = r;
		}
	}
	return 0;
}

cJSON *ops_selection_json(const ops_selection *s)
{
	cJSON *j = cJSON_CreateObject();
	if (s->expr)
		cJSON_AddStringToObject(j, "where", s->expr);
	else
		cJSON_AddNullToObject(j, "where");
	cJSON_AddNumberToObject(j, "patients", (double)s->nrow);
	cJSON_AddNumberToObject(j, "matching", (double)s->n);
	cJSON *a = cJSON_AddArrayToObject(j, "rowids");
	for (long i = 0; i < s->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)s->rowid[s->rows[i]]));
	return j;
}
