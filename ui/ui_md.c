/* ui_md.c: Markdown read in the terminal (the Reports pager): headings, paragraphs and list
 * items wrapped to the width, **bold**, *emphasis* and `code` drawn as attributes instead of
 * their marks, tables laid out in aligned columns (a cell too wide wraps within its column),
 * rules and fenced code. The report's Markdown is the one `lumen report` writes. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <ncurses.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui_impl.h"

enum { ST_PLAIN, ST_BOLD, ST_EM, ST_CODE, ST_HEAD, ST_RULE };

/* A styled string under construction. */
typedef struct sbuf {
	char *t;
	unsigned char *s;
	size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *p, size_t n, unsigned char st)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->t = xrealloc(b->t, b->cap);
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->t + b->n, p, n);
	memset(b->s + b->n, st, n);
	b->n += n;
	b->t[b->n] = 0;
}

static void sb_free(sbuf *b)
{
	free(b->t);
	free(b->s);
	memset(b, 0, sizeof *b);
}

/* Inline marks of one span into b: **bold**, *em* or _em_, `code`, \-escapes. */
static void inline_md(sbuf *b, const char *p, size_t n, unsigned char base)
{
	int bold = 0, em = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '\\' && i + 1 < n && strchr("\\`*_|#-", p[i + 1])) {
			sb_add(b, p + i + 1, 1, bold ? ST_BOLD : em ? ST_EM : base);
			i++;
		} else if (c == '`') {
			const char *e = memchr(p + i + 1, '`', n - i - 1);
			if (!e) {
				sb_add(b, p + i, 1, base);
				continue;
			}
			sb_add(b, p + i + 1, (size_t)(e - (p + i + 1)), ST_CODE);
			i = (size_t)(e - p);
		} else if (c == '*' && i + 1 < n && p[i + 1] == '*') {
			bold = !bold;
			i++;
		} else if ((c == '*' || c == '_') && (em || (i + 1 < n && p[i + 1] != ' ')) &&
			   (c == '*' || i == 0 || p[i - 1] == ' ' || em)) {
			em = !em;
		} else {
			sb_add(b, p + i, 1, bold ? ST_BOLD : em ? ST_EM : base);
		}
	}
	if (!b->t)
		sb_add(b, "", 0, base);
}

/* Display width of bytes [p, p+n). */
static int width_of(const char *p, size_t n)
{
	int w = 0;
	mbstate_t ms;
	memset(&ms, 0, sizeof ms);
	while (n > 0) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, p, n, &ms);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			k = 1;
			w++;
			memset(&ms, 0, sizeof ms);
		} else {
			int cw = wcwidth(wc);
			w += cw < 0 ? 1 : cw;
		}
		p += k;
		n -= k;
	}
	return w;
}

/* Bytes of [p, p+n) that fit in w columns, whole characters only. */
static size_t fit_of(const char *p, size_t n, int w)
{
	size_t used = 0;
	int cols = 0;
	mbstate_t ms;
	memset(&ms, 0, sizeof ms);
	while (used < n) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, p + used, n - used, &ms);
		int cw = 1;
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			k = 1;
			memset(&ms, 0, sizeof ms);
		} else {
			cw = wcwidth(wc) < 0 ? 1 : wcwidth(wc);
		}
		if (cols + cw > w)
			break;
		cols += cw;
		used += k;
	}
	return used;
}

typedef struct mdout {
	ui_mdline *l;
	int n, cap;
} mdout;

static void out_line(mdout *o, const char *t, const unsigned char *s, size_t n)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 64;
		o->l = xreallocarray(o->l, (size_t)o->cap, sizeof *o->l);
	}
	ui_mdline *l = &o->l[o->n++];
	l->text = xstrndup(t, n);
	l->style = xmalloc(n + 1);
	memcpy(l->style, s, n);
	l->style[n] = 0;
}

/* Splits a styled string into lines of at most w columns at blanks; the first line starts
 * with lead (a list bullet), the next ones with as many blanks. Returns the lines made. */
static int wrap_styled(mdout *o, const sbuf *b, int w, const char *lead)
{
	size_t ll = strlen(lead);
	int lw = width_of(lead, ll);
	int made = 0;
	size_t i = 0;
	do {
		size_t rest = b->n - i;
		size_t take = rest;
		if (width_of(b->t + i, rest) > w - lw) {
			size_t fit = fit_of(b->t + i, rest, w - lw > 1 ? w - lw : 1);
			take = fit;
			while (take > 0 && b->t[i + take] != ' ')
				take--;
			if (take == 0)
				take = fit ? fit : 1;
		}
		sbuf line = {0};
		sb_add(&line, made ? "" : lead, made ? 0 : ll, ST_PLAIN);
		for (size_t k = 0; made && k < ll; k++)
			sb_add(&line, " ", 1, ST_PLAIN);
		for (size_t k = 0; k < take; k++)
			sb_add(&line, b->t + i + k, 1, b->s[i + k]);
		out_line(o, line.t, line.s, line.n);
		sb_free(&line);
		made++;
		i += take;
		while (i < b->n && b->t[i] == ' ')
			i++;
	} while (i < b->n);
	return made;
}

/* The cells of a table row "| a | b |" (inline marks applied). */
static int row_cells(const char *line, sbuf **cells)
{
	const char *p = line;
	while (*p == ' ')
		p++;
	if (*p == '|')
		p++;
	int n = 0;
	*cells = NULL;
	while (*p) {
		const char *e = p;
		while (*e && !(*e == '|' && (e == p || e[-1] != '\\')))
			e++;
		if (!*e && e - p == 0)
			break;
		const char *a = p, *z = e;
		while (a < z && *a == ' ')
			a++;
		while (z > a && z[-1] == ' ')
			z--;
		*cells = xreallocarray(*cells, (size_t)n + 1, sizeof **cells);
		memset(&(*cells)[n], 0, sizeof **cells);
		inline_md(&(*cells)[n], a, (size_t)(z - a), ST_PLAIN);
		n++;
		if (!*e)
			break;
		p = e + 1;
		if (!*p || (*p == '\n'))
			break;
	}
	return n;
}

static int is_separator(const char *line)
{
	int dash = 0;
	for (const char *p = line; *p; p++) {
		if (*p == '-')
			dash = 1;
		else if (!strchr("|: \t", *p))
			return 0;
	}
	return dash;
}

/* Lays out the table rows rows[0..nr) (separator rows skipped, the first is the header). */
static void table_md(mdout *o, char **rows, int nr, int width, int ascii)
{
	sbuf **cells = xcalloc((size_t)nr, sizeof *cells);
	int *nc = xcalloc((size_t)nr, sizeof *nc);
	int ncol = 0;
	for (int r = 0; r < nr; r++) {
		nc[r] = is_separator(rows[r]) ? -1 : row_cells(rows[r], &cells[r]);
		if (nc[r] > ncol)
			ncol = nc[r];
	}
	int *cw = xcalloc((size_t)(ncol ? ncol : 1), sizeof *cw);
	for (int r = 0; r < nr; r++)
		for (int c = 0; c < nc[r]; c++) {
			int w = width_of(cells[r][c].t, cells[r][c].n);
			if (w > cw[c])
				cw[c] = w;
		}
	/* too wide: take columns from the widest until the row fits (each keeps 6) */
	int gap = 2, total;
	for (;;) {
		total = 0;
		for (int c = 0; c < ncol; c++)
			total += cw[c] + (c ? gap : 0);
		if (total <= width)
			break;
		int wi = 0;
		for (int c = 1; c < ncol; c++)
			if (cw[c] > cw[wi])
				wi = c;
		if (cw[wi] <= 6)
			break;
		cw[wi]--;
	}
	int header_done = 0;
	for (int r = 0; r < nr; r++) {
		if (nc[r] < 0) {
			if (!header_done && r > 0) { /* the rule under the header */
				sbuf rule = {0};
				for (int k = 0; k < total && k < width; k++)
					sb_add(&rule, ascii ? "-" : "─", ascii ? 1 : strlen("─"), ST_RULE);
				out_line(o, rule.t, rule.s, rule.n);
				sb_free(&rule);
				header_done = 1;
			}
			continue;
		}
		/* each cell wrapped in its column; the row is as tall as its tallest cell */
		mdout *cl = xcalloc((size_t)ncol, sizeof *cl);
		int h = 1;
		for (int c = 0; c < nc[r]; c++) {
			sbuf *b = &cells[r][c];
			if (r == 0 && !header_done)
				memset(b->s, ST_BOLD, b->n);
			if (b->n)
				wrap_styled(&cl[c], b, cw[c], "");
			if (cl[c].n > h)
				h = cl[c].n;
		}
		for (int k = 0; k < h; k++) {
			sbuf line = {0};
			for (int c = 0; c < ncol; c++) {
				if (c)
					sb_add(&line, "  ", (size_t)gap, ST_PLAIN);
				int used = 0;
				if (c < nc[r] && k < cl[c].n) {
					const ui_mdline *l = &cl[c].l[k];
					size_t ln = strlen(l->text);
					for (size_t q = 0; q < ln; q++)
						sb_add(&line, l->text + q, 1, l->style[q]);
					used = width_of(l->text, ln);
				}
				if (c < ncol - 1)
					for (; used < cw[c]; used++)
						sb_add(&line, " ", 1, ST_PLAIN);
			}
			out_line(o, line.t ? line.t : "", line.s, line.n);
			sb_free(&line);
		}
		for (int c = 0; c < ncol; c++)
			ui_md_free(cl[c].l, cl[c].n);
		free(cl);
	}
	for (int r = 0; r < nr; r++) {
		for (int c = 0; c < nc[r]; c++)
			sb_free(&cells[r][c]);
		free(cells[r]);
	}
	free(cells);
	free(nc);
	free(cw);
}

int ui_md_render(const char *md, int width, int ascii, ui_mdline **out)
{
	mdout o = {0};
	if (width < 20)
		width = 20;
	/* split into lines */
	char **ln = NULL;
	int nl = 0;
	for (const char *s = md; *s;) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		ln = xreallocarray(ln, (size_t)nl + 1, sizeof *ln);
		ln[nl++] = xstrndup(s, n);
		s += n + (e ? 1 : 0);
	}
	int fenced = 0, blank = 1;
	for (int i = 0; i < nl; i++) {
		const char *l = ln[i];
		const char *t = l;
		while (*t == ' ')
			t++;
		if (!strncmp(t, "```", 3)) {
			fenced = !fenced;
			continue;
		}
		if (fenced) {
			unsigned char *st = xmalloc(strlen(l) + 1);
			memset(st, ST_CODE, strlen(l) + 1);
			out_line(&o, l, st, fit_of(l, strlen(l), width));
			free(st);
			continue;
		}
		if (!*t) {
			if (!blank)
				out_line(&o, "", (const unsigned char *)"", 0);
			blank = 1;
			continue;
		}
		blank = 0;
		if (*t == '|') {
			int j = i;
			while (j < nl && ln[j][strspn(ln[j], " ")] == '|')
				j++;
			table_md(&o, ln + i, j - i, width, ascii);
			i = j - 1;
			continue;
		}
		if (*t == '#') {
			int level = (int)strspn(t, "#");
			const char *h = t + level;
			while (*h == ' ')
				h++;
			sbuf b = {0};
			inline_md(&b, h, strlen(h), ST_HEAD);
			memset(b.s, ST_HEAD, b.n);
			wrap_styled(&o, &b, width, "");
			if (level <= 2) { /* a rule under the big headings */
				int w = width_of(b.t, b.n);
				sbuf rule = {0};
				for (int k = 0; k < w && k < width; k++)
					sb_add(&rule, level == 1 ? (ascii ? "=" : "═") : (ascii ? "-" : "─"),
					       ascii ? 1 : strlen("─"), ST_RULE);
				out_line(&o, rule.t, rule.s, rule.n);
				sb_free(&rule);
			}
			sb_free(&b);
			continue;
		}
		if (strspn(t, "-") >= 3 && !t[strspn(t, "- ")]) {
			sbuf rule = {0};
			for (int k = 0; k < width; k++)
				sb_add(&rule, ascii ? "-" : "─", ascii ? 1 : strlen("─"), ST_RULE);
			out_line(&o, rule.t, rule.s, rule.n);
			sb_free(&rule);
			continue;
		}
		char lead[16] = "";
		const char *body = t;
		if ((t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ') {
			snprintf(lead, sizeof lead, "%*s%s ", (int)(t - l), "", ascii ? "-" : "•");
			body = t + 2;
		} else if (t[0] >= '0' && t[0] <= '9') {
			size_t d = strspn(t, "0123456789");
			if (d < 4 && (t[d] == '.' || t[d] == ')') && t[d + 1] == ' ') {
				snprintf(lead, sizeof lead, "%.*s ", (int)d + 1, t);
				body = t + d + 2;
			}
		}
		sbuf b = {0};
		inline_md(&b, body, strlen(body), ST_PLAIN);
		wrap_styled(&o, &b, width, lead);
		sb_free(&b);
	}
	for (int i = 0; i < nl; i++)
		free(ln[i]);
	free(ln);
	*out = o.l;
	return o.n;
}

void ui_md_free(ui_mdline *l, int n)
{
	for (int i = 0; i < n; i++) {
		free(l[i].text);
		free(l[i].style);
	}
	free(l);
}

void ui_md_draw(ui_app *a, int y, int x, int w, const ui_mdline *l)
{
	size_t n = strlen(l->text), i = 0;
	while (i < n && x < COLS && w > 0) {
		size_t j = i;
		while (j < n && l->style[j] == l->style[i])
			j++;
		attr_t at = 0;
		switch (l->style[i]) {
		case ST_BOLD: at = A_BOLD; break;
		case ST_EM: at = A_UNDERLINE; break;
		case ST_CODE: at = (attr_t)ui_attr_of(a, UI_A_HEADER); break;
		case ST_HEAD: at = A_BOLD; break;
		case ST_RULE: at = (attr_t)ui_attr_of(a, UI_A_DIM); break;
		default: break;
		}
		char *seg = xstrndup(l->text + i, j - i);
		if (at)
			attron(at);
		int used = ui_put(y, x, w, seg);
		if (at)
			attroff(at);
		free(seg);
		x += used;
		w -= used;
		i = j;
	}
}
