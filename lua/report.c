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
			free(b->series[k].lo);
			free(b->series[k].hi);
			free(b->series[k].cx);
			free(b->series[k].at_risk);
		}
		free(b->series);
		free(b->risk_t);
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
	memset(s, 0, sizeof *s);
	s->name = xstrdup(name ? name : "");
	s->n = n;
	s->x = xmallocarray((size_t)(n ? n : 1), sizeof(double));
	s->y = xmallocarray((size_t)(n ? n : 1), sizeof(double));
	memcpy(s->x, x, (size_t)n * sizeof(double));
	memcpy(s->y, y, (size_t)n * sizeof(double));
}

static double *dup_doubles(const double *v, int n)
{
	double *d = xmallocarray((size_t)(n ? n : 1), sizeof *d);
	memcpy(d, v, (size_t)n * sizeof *d);
	return d;
}

/* The last block when it is a chart with a series, else NULL. */
static report_block *last_chart(report *r)
{
	if (!r->n || r->b[r->n - 1].kind != RB_CHART)
		return NULL;
	return &r->b[r->n - 1];
}

void report_series_band(report *r, const double *lo, const double *hi)
{
	report_block *b = last_chart(r);
	if (!b || !b->nseries)
		return;
	report_series *sr = &b->series[b->nseries - 1];
	free(sr->lo);
	free(sr->hi);
	sr->lo = dup_doubles(lo, sr->n);
	sr->hi = dup_doubles(hi, sr->n);
}

void report_series_censor(report *r, int n, const double *t)
{
	report_block *b = last_chart(r);
	if (!b || !b->nseries || b->chart != CHART_KM)
		return;
	report_series *sr = &b->series[b->nseries - 1];
	free(sr->cx);
	sr->cx = dup_doubles(t, n);
	sr->ncens = n;
}

void report_series_at_risk(report *r, int nt, const double *t, const long *count)
{
	report_block *b = last_chart(r);
	if (!b || !b->nseries || b->chart != CHART_KM)
		return;
	if (!b->risk_t) {
		b->nrisk = nt;
		b->risk_t = dup_doubles(t, nt);
	}
	report_series *sr = &b->series[b->nseries - 1];
	free(sr->at_risk);
	sr->at_risk = xcalloc((size_t)(b->nrisk ? b->nrisk : 1), sizeof *sr->at_risk);
	memcpy(sr->at_risk, count, (size_t)(nt < b->nrisk ? nt : b->nrisk) * sizeof *count);
}

void report_set_range(report *r, double lo, double hi)
{
	report_block *b = last_chart(r);
	if (!b || !(hi > lo))
		return;
	b->has_range = 1;
	b->range_lo = lo;
	b->range_hi = hi;
}

void report_set_band(report *r, double lo, double hi, int logx, double ref)
{
	report_block *b = last_chart(r);
	if (!b)
		return;
	b->has_band = !isnan(lo) && !isnan(hi);
	b->band_lo = lo;
	b->band_hi = hi;
	b->logx = logx;
	b->ref = ref;
}

void report_set_ideal(report *r)
{
	report_block *b = last_chart(r);
	if (b)
		b->ideal = 1;
}

void report_intervals(report *r, const char *title, const char *xlabel, int n,
		      const char *const *labels, const double *est, const double *lo,
		      const double *hi)
{
	report_bars(r, CHART_INTERVAL, title, n, labels, est);
	report_block *b = &r->b[r->n - 1];
	b->xlabel = dup_or_null(xlabel);
	b->ref = (double)NAN;
	b->series[0].lo = dup_doubles(lo, n);
	b->series[0].hi = dup_doubles(hi, n);
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
	static const char *const names[] = {"bar chart",   "line chart", "Kaplan-Meier curve",
					    "attributions", "intervals", "attribution summary",
					    "scatter plot"};
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
	if (b->chart == CHART_INTERVAL) {
		buf_puts(o, "| label | value | lower | upper |\n| --- | --- | --- | --- |\n");
		for (int k = 0; k < b->nlabel; k++) {
			buf_puts(o, "| ");
			md_cell(o, b->labels[k]);
			buf_puts(o, " | ");
			num(o, b->series[0].y[k]);
			buf_puts(o, " | ");
			num(o, b->series[0].lo[k]);
			buf_puts(o, " | ");
			num(o, b->series[0].hi[k]);
			buf_puts(o, " |\n");
		}
	} else if (b->chart == CHART_BEESWARM) {
		/* per input: the spread of its attributions */
		buf_puts(o, "| input | patients | min | mean abs | max |\n| --- | --- | --- | --- | --- |\n");
		for (int k = 0; k < b->nseries; k++) {
			const report_series *sr = &b->series[k];
			double lo = (double)INFINITY, hi = -(double)INFINITY, ma = 0;
			int m = 0;
			for (int i = 0; i < sr->n; i++)
				if (!isnan(sr->x[i])) {
					lo = fmin(lo, sr->x[i]), hi = fmax(hi, sr->x[i]);
					ma += fabs(sr->x[i]);
					m++;
				}
			buf_puts(o, "| ");
			md_cell(o, sr->name);
			buf_printf(o, " | %d | ", m);
			num(o, m ? lo : (double)NAN);
			buf_puts(o, " | ");
			num(o, m ? ma / m : (double)NAN);
			buf_puts(o, " | ");
			num(o, m ? hi : (double)NAN);
			buf_puts(o, " |\n");
		}
	} else if (b->chart == CHART_BAR || b->chart == CHART_ATTR) {
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

/* Tick values for an axis lo..hi: about 5 round numbers (1, 2 or 5 times a power of 10).
 * Returns how many (at most 12) into t. */
static int nice_ticks(double lo, double hi, double *t)
{
	double span = hi - lo;
	if (!(span > 0))
		return 0;
	double raw = span / 5, p = pow(10, floor(log10(raw))), st = p;
	if (raw / p > 5)
		st = 10 * p;
	else if (raw / p > 2)
		st = 5 * p;
	else if (raw / p > 1)
		st = 2 * p;
	int n = 0;
	for (double v = ceil(lo / st - 1e-9) * st; v <= hi + st * 1e-9 && n < 12; v += st)
		t[n++] = fabs(v) < st * 1e-9 ? 0 : v;
	return n;
}

static void svg_open(lm_buf *o, double W, double H)
{
	buf_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		      "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n", W, H, W, H);
}

static void svg_line(lm_buf *o, double x1, double y1, double x2, double y2, const char *style)
{
	buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %s/>\n", x1, y1, x2, y2,
		   style);
}

/* Horizontal bars (bar and attribution charts). An attribution chart with a range set draws
 * that x range (so that charts side by side share one zero line) with its ticks. */
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
	if (b->has_range) {
		lo = fmin(lo, b->range_lo);
		hi = fmax(hi, b->range_hi);
	}
	if (hi - lo <= 0)
		hi = lo + 1;
	int axis = b->has_range;
	double plot = W - L - R, H = top * 2 + row * n + (axis ? 22 : 0);
	double bottom = top + row * n;
	double x0 = L + (0 - lo) / (hi - lo) * plot;
	svg_open(o, W, H);
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
		/* the value beside the bar's end, inside the chart when the bar reaches its edge */
		if (v[k] < 0 && x1 - 4 - 7 * (double)strlen(t) > L)
			svg_text(o, x1 - 4, y + 15, "end", t);
		else
			svg_text(o, fmax(x0, x1) + 4, y + 15, "start", t);
	}
	if (axis) {
		double tk[12];
		int nt = nice_ticks(lo, hi, tk);
		svg_line(o, L, bottom, L + plot, bottom, "stroke=\"#999\"");
		for (int k = 0; k < nt; k++) {
			double x = L + (tk[k] - lo) / (hi - lo) * plot;
			char t[32];
			snprintf(t, sizeof t, "%g", tk[k]);
			svg_line(o, x, bottom, x, bottom + 4, "stroke=\"#999\"");
			svg_text(o, x, bottom + 16, "middle", t);
		}
	}
	svg_line(o, x0, top, x0, bottom, "stroke=\"#333\"");
	buf_puts(o, "</svg>\n");
}

/* Estimates with intervals, one row per label, on one axis (log for ratios), with a shaded
 * band (the four-fifths rule's 0.8 to 1.25) and a dashed reference line. */
static void svg_interval(lm_buf *o, const report_block *b)
{
	const double W = 640, L = 200, R = 30, row = 24, top = 12;
	int n = b->nlabel;
	const report_series *sr = &b->series[0];
	double lo = (double)INFINITY, hi = -(double)INFINITY;
	int lg = b->logx;
#define TX(v) (lg ? log(v) : (v))
	for (int k = 0; k < n; k++) {
		const double c[3] = {sr->y[k], sr->lo[k], sr->hi[k]};
		for (int q = 0; q < 3; q++)
			if (!isnan(c[q]) && (!lg || c[q] > 0)) {
				lo = fmin(lo, TX(c[q]));
				hi = fmax(hi, TX(c[q]));
			}
	}
	if (b->has_band)
		lo = fmin(lo, TX(b->band_lo)), hi = fmax(hi, TX(b->band_hi));
	if (!isnan(b->ref))
		lo = fmin(lo, TX(b->ref)), hi = fmax(hi, TX(b->ref));
	if (b->has_range)
		lo = fmin(lo, TX(b->range_lo)), hi = fmax(hi, TX(b->range_hi));
	if (!isfinite(lo))
		lo = 0, hi = 1;
	if (hi - lo <= 0)
		hi = lo + 1;
	double pad = (hi - lo) * 0.04;
	lo -= pad, hi += pad;
	double plot = W - L - R, bottom = top + row * n, H = bottom + 40;
#define PXI(v) (L + (TX(v) - lo) / (hi - lo) * plot)
	svg_open(o, W, H);
	if (b->has_band)
		buf_printf(o, "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			      "fill=\"#2ca02c\" fill-opacity=\"0.15\"/>\n", PXI(b->band_lo), top,
			   PXI(b->band_hi) - PXI(b->band_lo), bottom - top);
	if (!isnan(b->ref))
		svg_line(o, PXI(b->ref), top, PXI(b->ref), bottom,
			 "stroke=\"#333\" stroke-dasharray=\"4 3\"");
	for (int k = 0; k < n; k++) {
		double y = top + row * k + row / 2;
		svg_text(o, L - 6, y + 4, "end", b->labels[k]);
		if (isnan(sr->y[k]) || (lg && !(sr->y[k] > 0)))
			continue;
		if (!isnan(sr->lo[k]) && !isnan(sr->hi[k]) && (!lg || (sr->lo[k] > 0 && sr->hi[k] > 0))) {
			svg_line(o, PXI(sr->lo[k]), y, PXI(sr->hi[k]), y, "stroke=\"#1f77b4\" stroke-width=\"2\"");
			svg_line(o, PXI(sr->lo[k]), y - 5, PXI(sr->lo[k]), y + 5, "stroke=\"#1f77b4\"");
			svg_line(o, PXI(sr->hi[k]), y - 5, PXI(sr->hi[k]), y + 5, "stroke=\"#1f77b4\"");
		}
		int out = b->has_band && (sr->y[k] < b->band_lo || sr->y[k] > b->band_hi);
		buf_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\"/>\n", PXI(sr->y[k]),
			   y, out ? "#d62728" : "#1f77b4");
	}
	svg_line(o, L, bottom, L + plot, bottom, "stroke=\"#999\"");
	double tk[12];
	int nt = 0;
	if (lg) {
		static const double cand[] = {0.1, 0.2, 0.25, 0.5, 0.8, 1, 1.25, 2, 4, 5, 10};
		for (size_t q = 0; q < LM_ARRAY_LEN(cand) && nt < 12; q++)
			if (log(cand[q]) >= lo && log(cand[q]) <= hi)
				tk[nt++] = cand[q];
	} else {
		nt = nice_ticks(lo, hi, tk);
	}
	for (int k = 0; k < nt; k++) {
		char t[32];
		snprintf(t, sizeof t, "%g", tk[k]);
		svg_line(o, PXI(tk[k]), bottom, PXI(tk[k]), bottom + 4, "stroke=\"#999\"");
		svg_text(o, PXI(tk[k]), bottom + 16, "middle", t);
	}
	if (b->xlabel)
		svg_text(o, L + plot / 2, H - 6, "middle", b->xlabel);
#undef PXI
#undef TX
	buf_puts(o, "</svg>\n");
}

/* The colour of a value at f in [0, 1] from blue (low) to red (high), grey when unknown. */
static void value_colour(double f, char *buf, size_t len)
{
	if (isnan(f)) {
		snprintf(buf, len, "#999999");
		return;
	}
	f = f < 0 ? 0 : f > 1 ? 1 : f;
	int r = (int)lround(31 + f * (214 - 31)), g = (int)lround(119 + f * (39 - 119)),
	    bl = (int)lround(180 + f * (40 - 180));
	snprintf(buf, len, "#%02x%02x%02x", r, g, bl);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* A beeswarm: one row per series (an input), a point per patient at its attribution, piled
 * up where points would overlap, coloured by the input's value (low blue, high red). */
static void svg_beeswarm(lm_buf *o, const report_block *b)
{
	const double W = 720, L = 160, R = 30, row = 34, top = 10;
	int n = b->nseries;
	double lo = 0, hi = 0;
	for (int s = 0; s < n; s++)
		for (int i = 0; i < b->series[s].n; i++)
			if (!isnan(b->series[s].x[i]))
				lo = fmin(lo, b->series[s].x[i]), hi = fmax(hi, b->series[s].x[i]);
	if (b->has_range)
		lo = fmin(lo, b->range_lo), hi = fmax(hi, b->range_hi);
	if (hi - lo <= 0)
		hi = lo + 1;
	double pad = (hi - lo) * 0.03;
	lo -= pad, hi += pad;
	double plot = W - L - R, bottom = top + row * n, H = bottom + 62;
#define PXB(v) (L + ((v) - lo) / (hi - lo) * plot)
	svg_open(o, W, H);
	int nbin = (int)(plot / 2) + 2;
	int *pile = xcalloc((size_t)nbin, sizeof *pile);
	for (int s = 0; s < n; s++) {
		const report_series *sr = &b->series[s];
		double y0 = top + row * s + row / 2;
		svg_text(o, L - 6, y0 + 4, "end", sr->name);
		svg_line(o, L, y0, L + plot, y0, "stroke=\"#eee\"");
		/* colours from the 5th to the 95th percentile of the values (SHAP's clipping: a
		 * long tail does not wash the rest into one colour) */
		double vlo = (double)INFINITY, vhi = -(double)INFINITY;
		double *sv = xmallocarray((size_t)(sr->n ? sr->n : 1), sizeof *sv);
		int m = 0;
		for (int i = 0; i < sr->n; i++)
			if (!isnan(sr->y[i]))
				sv[m++] = sr->y[i];
		if (m) {
			qsort(sv, (size_t)m, sizeof *sv, cmp_dbl);
			vlo = sv[(int)floor(0.05 * (m - 1))];
			vhi = sv[(int)ceil(0.95 * (m - 1))];
			if (!(vhi > vlo))
				vlo = sv[0], vhi = sv[m - 1];
		}
		free(sv);
		memset(pile, 0, (size_t)nbin * sizeof *pile);
		buf_puts(o, "<g class=\"swarm\">\n");
		for (int i = 0; i < sr->n; i++) {
			if (isnan(sr->x[i]))
				continue;
			double x = PXB(sr->x[i]);
			int bin = (int)((x - L) / 2);
			bin = bin < 0 ? 0 : bin >= nbin ? nbin - 1 : bin;
			/* the k-th point of a bin goes 0, +2, -2, +4, ... px off the row's line,
			 * wrapping within the row */
			int k = pile[bin]++;
			double off = (double)((k + 1) / 2) * 2.0 * (k % 2 ? 1 : -1);
			off = fmod(off, row / 2 - 2);
			char col[16];
			value_colour(vhi > vlo ? (sr->y[i] - vlo) / (vhi - vlo)
					       : isnan(sr->y[i]) ? (double)NAN : 0.5, col, sizeof col);
			buf_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.8\" fill=\"%s\"/>\n", x,
				   y0 + off, col);
		}
		buf_puts(o, "</g>\n");
	}
	free(pile);
	svg_line(o, PXB(0), top, PXB(0), bottom, "stroke=\"#333\"");
	svg_line(o, L, bottom, L + plot, bottom, "stroke=\"#999\"");
	double tk[12];
	int nt = nice_ticks(lo, hi, tk);
	for (int k = 0; k < nt; k++) {
		char t[32];
		snprintf(t, sizeof t, "%g", tk[k]);
		svg_line(o, PXB(tk[k]), bottom, PXB(tk[k]), bottom + 4, "stroke=\"#999\"");
		svg_text(o, PXB(tk[k]), bottom + 16, "middle", t);
	}
	svg_text(o, L + plot / 2, bottom + 34, "middle",
		 b->xlabel ? b->xlabel : "attribution (logit units)");
	/* the colour key */
	double kx = L + plot - 180, ky = bottom + 46;
	svg_text(o, kx - 6, ky + 9, "end", "input value: low");
	for (int k = 0; k < 10; k++) {
		char col[16];
		value_colour(k / 9.0, col, sizeof col);
		buf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\"/>\n",
			   kx + 14 * k, ky, col);
	}
	svg_text(o, kx + 146, ky + 9, "start", "high");
#undef PXB
	buf_puts(o, "</svg>\n");
}

/* The step value of a KM series at t (1 before its first point). */
static double step_at(const report_series *sr, double t)
{
	double v = 1;
	for (int k = 0; k < sr->n && sr->x[k] <= t; k++)
		if (!isnan(sr->y[k]))
			v = sr->y[k];
	return v;
}

static void svg_xy(lm_buf *o, const report_block *b)
{
	int km = b->chart == CHART_KM, sc = b->chart == CHART_SCATTER;
	const double W = 640, L = 60, R = 150, T = 15;
	double B = 45 + (km && b->nrisk ? 22.0 + 16.0 * b->nseries : 0);
	const double ph = 280; /* the plot's height; the axis, its labels and any at-risk table below */
	double H = T + ph + B;
	double xlo = (double)INFINITY, xhi = -(double)INFINITY, ylo = (double)INFINITY, yhi = -(double)INFINITY;
	for (int s = 0; s < b->nseries; s++)
		for (int k = 0; k < b->series[s].n; k++) {
			double x = b->series[s].x[k], y = b->series[s].y[k];
			if (isnan(x) || isnan(y))
				continue;
			xlo = fmin(xlo, x), xhi = fmax(xhi, x);
			ylo = fmin(ylo, y), yhi = fmax(yhi, y);
		}
	if (km)
		ylo = 0, yhi = 1, xlo = fmin(xlo, 0);
	if (b->ideal)
		xlo = ylo = 0, xhi = yhi = 1;
	if (!isfinite(xlo))
		xlo = 0, xhi = 1, ylo = 0, yhi = 1;
	if (xhi - xlo <= 0)
		xhi = xlo + 1;
	if (yhi - ylo <= 0)
		yhi = ylo + 1;
	if (sc) { /* a margin so no point sits on the frame */
		double px = (xhi - xlo) * 0.03, py = (yhi - ylo) * 0.05;
		xlo -= px, xhi += px, ylo -= py, yhi += py;
	}
	double pw = W - L - R;
#define PX(x) (L + ((x) - xlo) / (xhi - xlo) * pw)
#define PY(y) (T + ph - ((y) - ylo) / (yhi - ylo) * ph)
	svg_open(o, W, H);
	buf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
		      "stroke=\"#999\"/>\n", L, T, pw, ph);
	double tx[12], ty[12];
	int ntx = nice_ticks(xlo, xhi, tx), nty = nice_ticks(ylo, yhi, ty);
	for (int k = 0; k < ntx; k++) {
		char t[64];
		snprintf(t, sizeof t, "%g", tx[k]);
		svg_line(o, PX(tx[k]), T + ph, PX(tx[k]), T + ph + 4, "stroke=\"#999\"");
		svg_text(o, PX(tx[k]), T + ph + 16, "middle", t);
	}
	for (int k = 0; k < nty; k++) {
		char t[64];
		snprintf(t, sizeof t, "%g", ty[k]);
		svg_line(o, L - 4, PY(ty[k]), L, PY(ty[k]), "stroke=\"#999\"");
		svg_text(o, L - 6, PY(ty[k]) + 4, "end", t);
	}
	if (b->xlabel)
		svg_text(o, L + pw / 2, T + ph + 34, "middle", b->xlabel);
	if (b->ylabel) {
		buf_printf(o, "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" "
			      "transform=\"rotate(-90 14 %.1f)\">", T + ph / 2, T + ph / 2);
		esc(o, b->ylabel);
		buf_puts(o, "</text>\n");
	}
	if (b->ideal)
		svg_line(o, PX(0), PY(0), PX(1), PY(1), "class=\"ideal\" stroke=\"#777\" stroke-dasharray=\"5 4\"");
	if (sc && ylo < 0 && yhi > 0)
		svg_line(o, L, PY(0), L + pw, PY(0), "stroke=\"#333\"");
	for (int s = 0; s < b->nseries; s++) {
		const report_series *sr = &b->series[s];
		const char *col = palette[s % (int)LM_ARRAY_LEN(palette)];
		if (km && sr->lo && sr->hi) {
			/* the confidence band: the upper steps forward, the lower back */
			buf_printf(o, "<polygon class=\"band\" fill=\"%s\" fill-opacity=\"0.15\" "
				      "stroke=\"none\" points=\"", col);
			double prev = (double)NAN;
			int first = 1;
			for (int k = 0; k < sr->n; k++) {
				double v = sr->hi[k];
				if (isnan(sr->x[k]) || isnan(v))
					continue;
				if (!first)
					buf_printf(o, " %.1f,%.1f", PX(sr->x[k]), PY(prev));
				buf_printf(o, "%s%.1f,%.1f", first ? "" : " ", PX(sr->x[k]), PY(v));
				prev = v;
				first = 0;
			}
			double last_x = (double)NAN;
			for (int k = sr->n - 1; k >= 0; k--) {
				double v = sr->lo[k];
				if (isnan(sr->x[k]) || isnan(v))
					continue;
				if (!isnan(last_x))
					buf_printf(o, " %.1f,%.1f", PX(last_x), PY(v));
				buf_printf(o, " %.1f,%.1f", PX(sr->x[k]), PY(v));
				last_x = sr->x[k];
			}
			buf_puts(o, "\"/>\n");
		}
		if (!sc) {
			buf_printf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
				   col);
			double prev = (double)NAN;
			int first = 1;
			for (int k = 0; k < sr->n; k++) {
				double x = sr->x[k], y = sr->y[k];
				if (isnan(x) || isnan(y))
					continue;
				/* Kaplan-Meier curves are step functions: hold the previous level */
				if (km && !first)
					buf_printf(o, " %.1f,%.1f", PX(x), PY(prev));
				buf_printf(o, "%s%.1f,%.1f", first ? "" : " ", PX(x), PY(y));
				prev = y;
				first = 0;
			}
			buf_puts(o, "\"/>\n");
		}
		if (sc || (b->ideal && sr->n <= 30)) /* points: a scatter, a calibration curve */
			for (int k = 0; k < sr->n; k++)
				if (!isnan(sr->x[k]) && !isnan(sr->y[k]))
					buf_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"%s/>\n",
						   PX(sr->x[k]), PY(sr->y[k]), sc ? "2.2" : "3.5", col,
						   sc ? " fill-opacity=\"0.7\"" : "");
		if (km && sr->cx) { /* censoring ticks on the curve */
			char col_style[48];
			snprintf(col_style, sizeof col_style, "stroke=\"%s\"", col);
			buf_puts(o, "<g class=\"censor\">\n");
			for (int k = 0; k < sr->ncens; k++) {
				double y = PY(step_at(sr, sr->cx[k]));
				svg_line(o, PX(sr->cx[k]), y - 4, PX(sr->cx[k]), y + 4,
					 col_style);
			}
			buf_puts(o, "</g>\n");
		}
		double ly = T + 14 + 18 * s;
		buf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"4\" fill=\"%s\"/>\n",
			   W - R + 10, ly - 5, col);
		svg_text(o, W - R + 28, ly, "start", sr->name);
	}
	if (km && b->nrisk) { /* the numbers at risk under the axis, one row per curve */
		double y0 = T + ph + 52;
		svg_text(o, 4, y0, "start", "at risk");
		for (int s = 0; s < b->nseries; s++) {
			const report_series *sr = &b->series[s];
			double y = y0 + 16 * (s + 1);
			buf_printf(o, "<rect x=\"4\" y=\"%.1f\" width=\"10\" height=\"4\" fill=\"%s\"/>\n",
				   y - 5, palette[s % (int)LM_ARRAY_LEN(palette)]);
			for (int k = 0; sr->at_risk && k < b->nrisk; k++) {
				if (b->risk_t[k] < xlo || b->risk_t[k] > xhi)
					continue;
				char t[32];
				snprintf(t, sizeof t, "%ld", sr->at_risk[k]);
				svg_text(o, PX(b->risk_t[k]), y, "middle", t);
			}
		}
	}
#undef PX
#undef PY
	buf_puts(o, "</svg>\n");
}

/* A paragraph's text with Markdown's `code` spans as <code> (a lone backtick stays). */
static void esc_inline(lm_buf *o, const char *s)
{
	while (*s) {
		const char *a = strchr(s, '`'), *z = a ? strchr(a + 1, '`') : NULL;
		if (!a || !z) {
			esc(o, s);
			return;
		}
		char *pre = xstrndup(s, (size_t)(a - s)), *code = xstrndup(a + 1, (size_t)(z - a - 1));
		esc(o, pre);
		buf_puts(o, "<code>");
		esc(o, code);
		buf_puts(o, "</code>");
		free(pre);
		free(code);
		s = z + 1;
	}
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
		    "figure{margin:1em 0}\ncode{background:#f3f3f3;padding:0 .2em}\n</style>\n</head>\n<body>\n");
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
			esc_inline(o, b->text);
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
			else if (b->chart == CHART_INTERVAL)
				svg_interval(o, b);
			else if (b->chart == CHART_BEESWARM)
				svg_beeswarm(o, b);
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
