/* report.c: the report document and its Markdown, CSV and HTML+SVG renderers. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void report_init(report *r) { memset(r, 0, sizeof *r); }

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

static report_block *add_block(report *r, report_kind kind)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->b = xreallocarray(r->b, (size_t)r->cap, sizeof *r->b);
	}
	report_block *b = &r->b[r->n++];
	memset(b, 0, sizeof *b);
	b->kind = kind;
	return b;
}

void report_free(report *r)
{
	for (int i = 0; i < r->n; i++) {
		report_block *b = &r->b[i];
		free(b->text);
		free(b->xlabel);
		free(b->ylabel);
		for (int k = 0; k < b->ncol; k++)
			free(b->head[k]);
		for (long k = 0; k < (long)b->ncol * b->nrow; k++)
			free(b->cells[k]);
		free(b->head);
		free(b->cells);
		for (int k = 0; k < b->nlabel; k++)
			free(b->labels[k]);
		free(b->labels);
		for (int k = 0; k < b->nseries; k++) {
			free(b->series[k].name);
			free(b->series[k].x);
			free(b->series[k].y);
		}
		free(b->series);
	}
	free(r->b);
	memset(r, 0, sizeof *r);
}

void report_title(report *r, const char *text) { add_block(r, RB_TITLE)->text = xstrdup(text); }

void report_heading(report *r, const char *text, int level)
{
	report_block *b = add_block(r, RB_HEADING);
	b->text = xstrdup(text);
	b->level = level < 2 ? 2 : level > 4 ? 4 : level;
}

void report_paragraph(report *r, const char *text)
{
	add_block(r, RB_PARAGRAPH)->text = xstrdup(text);
}

void report_table(report *r, const char *caption, int ncol, const char *const *head, int nrow,
		  const char *const *cells)
{
	report_block *b = add_block(r, RB_TABLE);
	b->text = dup_or_null(caption);
	b->ncol = ncol;
	b->nrow = nrow;
	b->head = xcalloc((size_t)(ncol ? ncol : 1), sizeof *b->head);
	for (int k = 0; k < ncol; k++)
		b->head[k] = xstrdup(head[k] ? head[k] : "");
	size_t nc = (size_t)ncol * (size_t)nrow;
	b->cells = xcalloc(nc ? nc : 1, sizeof *b->cells);
	for (size_t k = 0; k < nc; k++)
		b->cells[k] = xstrdup(cells[k] ? cells[k] : "");
}

void report_bars(report *r, report_chart kind, const char *title, int n,
		 const char *const *labels, const double *values)
{
	report_block *b = add_block(r, RB_CHART);
	b->chart = kind;
	b->text = dup_or_null(title);
	b->nlabel = n;
	b->labels = xcalloc((size_t)(n ? n : 1), sizeof *b->labels);
	for (int k = 0; k < n; k++)
		b->labels[k] = xstrdup(labels[k] ? labels[k] : "");
	b->nseries = 1;
	b->series = xcalloc(1, sizeof *b->series);
	b->series[0].n = n;
	b->series[0].y = xmallocarray((size_t)(n ? n : 1), sizeof(double));
	memcpy(b->series[0].y, values, (size_t)n * sizeof(double));
}

void report_xy(report *r, report_chart kind, const char *title, const char *xlabel,
	       const char *ylabel)
{
	report_block *b = add_block(r, RB_CHART);
	b->chart = kind;
	b->text = dup_or_null(title);
	b->xlabel = dup_or_null(xlabel);
	b->ylabel = dup_or_null(ylabel);
}

void report_add_series(report *r, const char *name, int n, const double *x, const double *y)
{
	if (!r->n)
		return;
	report_block *b = &r->b[r->n - 1];
	b->series = xreallocarray(b->series, (size_t)b->nseries + 1, sizeof *b->series);
	report_series *s = &b->series[b->nseries++];
	s->name = xstrdup(name ? name : "");
	s->n = n;
	s->x = xmallocarray((size_t)(n ? n : 1), sizeof(double));
	s->y = xmallocarray((size_t)(n ? n : 1), sizeof(double));
	memcpy(s->x, x, (size_t)n * sizeof(double));
	memcpy(s->y, y, (size_t)n * sizeof(double));
}

int report_format_parse(const char *s)
{
	if (!strcmp(s, "md") || !strcmp(s, "markdown"))
		return REPORT_MD;
	if (!strcmp(s, "csv"))
		return REPORT_CSV;
	if (!strcmp(s, "html"))
		return REPORT_HTML;
	return -1;
}

static void num(lm_buf *o, double v)
{
	if (isnan(v))
		buf_puts(o, "NA");
	else
		buf_printf(o, "%.4g", v);
}

static const char *chart_name(report_chart c)
{
	static const char *const names[] = {"bar chart", "line chart", "Kaplan-Meier curve",
					    "attributions"};
	return names[c];
}

/* ---- Markdown ---- */

/* A table cell: pipes escaped, line breaks folded to spaces. */
static void md_cell(lm_buf *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			buf_puts(o, "\\|");
		else if (*s == '\n' || *s == '\r')
			buf_puts(o, " ");
		else
			buf_add(o, s, 1);
	}
}

static void md_row(lm_buf *o, int n, char *const *cells)
{
	buf_puts(o, "|");
	for (int k = 0; k < n; k++) {
		buf_puts(o, " ");
		md_cell(o, cells[k]);
		buf_puts(o, " |");
	}
	buf_puts(o, "\n");
}

static void md_rule(lm_buf *o, int n)
{
	buf_puts(o, "|");
	for (int k = 0; k < n; k++)
		buf_puts(o, " --- |");
	buf_puts(o, "\n");
}

static void md_chart(lm_buf *o, const report_block *b)
{
	buf_printf(o, "**%s** (%s)\n\n", b->text ? b->text : "Chart", chart_name(b->chart));
	if (b->chart == CHART_BAR || b->chart == CHART_ATTR) {
		buf_puts(o, "| label | value |\n| --- | --- |\n");
		for (int k = 0; k < b->nlabel; k++) {
			buf_puts(o, "| ");
			md_cell(o, b->labels[k]);
			buf_puts(o, " | ");
			num(o, b->series[0].y[k]);
			buf_puts(o, " |\n");
		}
	} else {
		buf_puts(o, "| series | ");
		md_cell(o, b->xlabel ? b->xlabel : "x");
		buf_puts(o, " | ");
		md_cell(o, b->ylabel ? b->ylabel : "y");
		buf_puts(o, " |\n| --- | --- | --- |\n");
		for (int s = 0; s < b->nseries; s++)
			for (int k = 0; k < b->series[s].n; k++) {
				buf_puts(o, "| ");
				md_cell(o, b->series[s].name);
				buf_puts(o, " | ");
				num(o, b->series[s].x[k]);
				buf_puts(o, " | ");
				num(o, b->series[s].y[k]);
				buf_puts(o, " |\n");
			}
	}
	buf_puts(o, "\n");
}

static void render_md(const report *r, lm_buf *o)
{
	for (int i = 0; i < r->n; i++) {
		const report_block *b = &r->b[i];
		switch (b->kind) {
		case RB_TITLE:
			buf_printf(o, "# %s\n\n", b->text);
			break;
		case RB_HEADING:
			buf_printf(o, "%.*s %s\n\n", b->level, "####", b->text);
			break;
		case RB_PARAGRAPH:
			buf_printf(o, "%s\n\n", b->text);
			break;
		case RB_TABLE:
			if (b->text)
				buf_printf(o, "**%s**\n\n", b->text);
			md_row(o, b->ncol, b->head);
			md_rule(o, b->ncol);
			for (int k = 0; k < b->nrow; k++)
				md_row(o, b->ncol, b->cells + (size_t)k * (size_t)b->ncol);
			buf_puts(o, "\n");
			break;
		case RB_CHART:
			md_chart(o, b);
			break;
		}
	}
}

/* ---- CSV: the tables only ---- */

static void csv_row(lm_buf *o, int n, char *const *cells)
{
	for (int k = 0; k < n; k++) {
		if (k)
			buf_puts(o, ",");
		lm_csv_quote(o, cells[k]);
	}
	buf_puts(o, "\r\n");
}

static void render_csv(const report *r, lm_buf *o)
{
	int first = 1;
	for (int i = 0; i < r->n; i++) {
		const report_block *b = &r->b[i];
		if (b->kind != RB_TABLE)
			continue;
		if (!first)
			buf_puts(o, "\r\n");
		first = 0;
		csv_row(o, b->ncol, b->head);
		for (int k = 0; k < b->nrow; k++)
			csv_row(o, b->ncol, b->cells + (size_t)k * (size_t)b->ncol);
	}
}

/* ---- HTML with inline SVG (also well-formed XML) ---- */

static void esc(lm_buf *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_puts(o, "&amp;"); break;
		case '<': buf_puts(o, "&lt;"); break;
		case '>': buf_puts(o, "&gt;"); break;
		case '"': buf_puts(o, "&quot;"); break;
		case '\'': buf_puts(o, "&#39;"); break;
		default:
			/* control characters other than tab and newline are not allowed in XML */
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
				buf_puts(o, " ");
			else
				buf_add(o, s, 1);
		}
	}
}

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
				       "#8c564b", "#e377c2", "#17becf"};

static void svg_text(lm_buf *o, double x, double y, const char *anchor, const char *s)
{
	buf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", x, y, anchor);
	esc(o, s);
	buf_puts(o, "</text>\n");
}

static void svg_bars(lm_buf *o, const report_block *b)
{
	const double W = 640, L = 200, R = 70, row = 22, top = 10;
	int n = b->nlabel;
	const double *v = b->series[0].y;
	double lo = 0, hi = 0;
	for (int k = 0; k < n; k++)
		if (!isnan(v[k])) {
			lo = fmin(lo, v[k]);
			hi = fmax(hi, v[k]);
		}
	if (hi - lo <= 0)
		hi = lo + 1;
	double plot = W - L - R, H = top * 2 + row * n;
	double x0 = L + (0 - lo) / (hi - lo) * plot;
	buf_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		      "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n", W, H, W, H);
	for (int k = 0; k < n; k++) {
		double y = top + row * k;
		svg_text(o, L - 6, y + 15, "end", b->labels[k]);
		if (isnan(v[k]))
			continue;
		double x1 = L + (v[k] - lo) / (hi - lo) * plot;
		const char *fill = b->chart == CHART_ATTR ? (v[k] >= 0 ? "#d62728" : "#1f77b4")
							  : palette[0];
		buf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			      "fill=\"%s\"/>\n", fmin(x0, x1), y + 3, fabs(x1 - x0), row - 6, fill);
		char t[64];
		snprintf(t, sizeof t, "%.4g", v[k]);
		svg_text(o, fmax(x0, x1) + 4, y + 15, "start", t);
	}
	buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
		   x0, top, x0, H - top);
	buf_puts(o, "</svg>\n");
}

static void svg_xy(lm_buf *o, const report_block *b)
{
	const double W = 640, H = 340, L = 60, R = 150, T = 15, B = 45;
	double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
	for (int s = 0; s < b->nseries; s++)
		for (int k = 0; k < b->series[s].n; k++) {
			double x = b->series[s].x[k], y = b->series[s].y[k];
			if (isnan(x) || isnan(y))
				continue;
			xlo = fmin(xlo, x), xhi = fmax(xhi, x);
			ylo = fmin(ylo, y), yhi = fmax(yhi, y);
		}
	if (b->chart == CHART_KM)
		ylo = 0, yhi = 1, xlo = fmin(xlo, 0);
	if (!isfinite(xlo))
		xlo = 0, xhi = 1, ylo = 0, yhi = 1;
	if (xhi - xlo <= 0)
		xhi = xlo + 1;
	if (yhi - ylo <= 0)
		yhi = ylo + 1;
	double pw = W - L - R, ph = H - T - B;
#define PX(x) (L + ((x) - xlo) / (xhi - xlo) * pw)
#define PY(y) (T + ph - ((y) - ylo) / (yhi - ylo) * ph)
	buf_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		      "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n", W, H, W, H);
	buf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
		      "stroke=\"#999\"/>\n", L, T, pw, ph);
	for (int k = 0; k <= 4; k++) {
		char t[64];
		double xv = xlo + (xhi - xlo) * k / 4, yv = ylo + (yhi - ylo) * k / 4;
		snprintf(t, sizeof t, "%.4g", xv);
		svg_text(o, PX(xv), T + ph + 16, "middle", t);
		snprintf(t, sizeof t, "%.4g", yv);
		svg_text(o, L - 5, PY(yv) + 4, "end", t);
	}
	if (b->xlabel)
		svg_text(o, L + pw / 2, H - 8, "middle", b->xlabel);
	if (b->ylabel)
		svg_text(o, 12, T + 10, "start", b->ylabel);
	for (int s = 0; s < b->nseries; s++) {
		const report_series *sr = &b->series[s];
		const char *col = palette[s % (int)LM_ARRAY_LEN(palette)];
		buf_printf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
		double prev = NAN;
		int first = 1;
		for (int k = 0; k < sr->n; k++) {
			double x = sr->x[k], y = sr->y[k];
			if (isnan(x) || isnan(y))
				continue;
			/* Kaplan-Meier curves are step functions: hold the previous level until x */
			if (b->chart == CHART_KM && !first)
				buf_printf(o, " %.1f,%.1f", PX(x), PY(prev));
			buf_printf(o, "%s%.1f,%.1f", first ? "" : " ", PX(x), PY(y));
			prev = y;
			first = 0;
		}
		buf_puts(o, "\"/>\n");
		double ly = T + 14 + 18 * s;
		buf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"4\" fill=\"%s\"/>\n",
			   W - R + 10, ly - 5, col);
		svg_text(o, W - R + 28, ly, "start", sr->name);
	}
#undef PX
#undef PY
	buf_puts(o, "</svg>\n");
}

static void render_html(const report *r, lm_buf *o)
{
	const char *title = "lumen report";
	for (int i = 0; i < r->n; i++)
		if (r->b[i].kind == RB_TITLE) {
			title = r->b[i].text;
			break;
		}
	buf_puts(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
		    "<title>");
	esc(o, title);
	buf_puts(o, "</title>\n<style>\n"
		    "body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}\n"
		    "table{border-collapse:collapse;margin:1em 0}\n"
		    "th,td{border:1px solid #bbb;padding:.2em .6em;text-align:left}\n"
		    "th{background:#eee}\nsvg text{font-size:12px;font-family:sans-serif}\n"
		    "figure{margin:1em 0}\n</style>\n</head>\n<body>\n");
	for (int i = 0; i < r->n; i++) {
		const report_block *b = &r->b[i];
		switch (b->kind) {
		case RB_TITLE:
			buf_puts(o, "<h1>");
			esc(o, b->text);
			buf_puts(o, "</h1>\n");
			break;
		case RB_HEADING:
			buf_printf(o, "<h%d>", b->level);
			esc(o, b->text);
			buf_printf(o, "</h%d>\n", b->level);
			break;
		case RB_PARAGRAPH:
			buf_puts(o, "<p>");
			esc(o, b->text);
			buf_puts(o, "</p>\n");
			break;
		case RB_TABLE:
			buf_puts(o, "<table>\n");
			if (b->text) {
				buf_puts(o, "<caption>");
				esc(o, b->text);
				buf_puts(o, "</caption>\n");
			}
			buf_puts(o, "<thead><tr>");
			for (int k = 0; k < b->ncol; k++) {
				buf_puts(o, "<th>");
				esc(o, b->head[k]);
				buf_puts(o, "</th>");
			}
			buf_puts(o, "</tr></thead>\n<tbody>\n");
			for (int j = 0; j < b->nrow; j++) {
				buf_puts(o, "<tr>");
				for (int k = 0; k < b->ncol; k++) {
					buf_puts(o, "<td>");
					esc(o, b->cells[(size_t)j * (size_t)b->ncol + (size_t)k]);
					buf_puts(o, "</td>");
				}
				buf_puts(o, "</tr>\n");
			}
			buf_puts(o, "</tbody>\n</table>\n");
			break;
		case RB_CHART:
			buf_puts(o, "<figure>\n");
			if (b->chart == CHART_BAR || b->chart == CHART_ATTR)
				svg_bars(o, b);
			else
				svg_xy(o, b);
			buf_puts(o, "<figcaption>");
			esc(o, b->text ? b->text : chart_name(b->chart));
			buf_puts(o, "</figcaption>\n</figure>\n");
			break;
		}
	}
	buf_puts(o, "</body>\n</html>\n");
}

void report_render(const report *r, report_format fmt, lm_buf *out)
{
	buf_puts(out, ""); /* an empty report still yields a NUL-terminated buffer */
	switch (fmt) {
	case REPORT_MD: render_md(r, out); break;
	case REPORT_CSV: render_csv(r, out); break;
	case REPORT_HTML: render_html(r, out); break;
	}
}
