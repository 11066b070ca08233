/* report.h: the report document model and its renderers (Markdown, CSV, HTML with inline SVG).
 * Plain C with no Lua, so the TUI's pager can build and render reports too.
 *
 * A report is a list of blocks: title, heading, paragraph, table, chart. Every string added is
 * copied; report_free releases everything. Renderers append to an lm_buf. */
#ifndef LUMEN_REPORT_H
#define LUMEN_REPORT_H

#include "../src/util.h"

typedef enum { RB_TITLE, RB_HEADING, RB_PARAGRAPH, RB_TABLE, RB_CHART } report_kind;
typedef enum {
	CHART_BAR, CHART_LINE, CHART_KM, CHART_ATTR,
	CHART_INTERVAL, /* labelled estimates with intervals on one axis (ratios: log, a band) */
	CHART_BEESWARM, /* per series (an input): points at x, coloured by y (the input's value) */
	CHART_SCATTER   /* points (x, y), per series */
} report_chart;
typedef enum { REPORT_MD, REPORT_CSV, REPORT_HTML } report_format;

typedef struct report_series {
	char *name;
	int n;
	double *x, *y; /* n points; x is NULL for bar and attribution charts */
	double *lo, *hi; /* n or NULL: a KM confidence band, an interval chart's intervals */
	int ncens;
	double *cx;      /* KM: ncens censoring times, ticked on the curve */
	long *at_risk;   /* KM: the numbers at risk at the block's risk_t (nrisk), or NULL */
} report_series;

typedef struct report_block {
	report_kind kind;
	int level;  /* heading level 2..4 */
	char *text; /* title, heading, paragraph text; chart or table caption (may be NULL) */
	/* table: ncol header cells, then nrow * ncol cells (row-major) */
	int ncol, nrow;
	char **head, **cells;
	/* chart */
	report_chart chart;
	char *xlabel, *ylabel;
	int nlabel;
	char **labels; /* bar and attribution charts: one label per value of series[0] */
	int nseries;
	report_series *series;
	int ideal;                 /* line chart: the diagonal y = x, dashed (calibration, ROC) */
	int has_range;             /* attribution and interval charts: this x range, so that */
	double range_lo, range_hi; /* charts side by side share one axis and one zero line */
	int has_band, logx;        /* interval chart: a shaded band, a log axis, a reference */
	double band_lo, band_hi, ref;
	int nrisk;                 /* KM: times of the at-risk table under the axis */
	double *risk_t;
} report_block;

typedef struct report {
	int n, cap;
	report_block *b;
} report;

void report_init(report *r);
void report_free(report *r);

void report_title(report *r, const char *text);
void report_heading(report *r, const char *text, int level);
void report_paragraph(report *r, const char *text);
/* head: ncol strings; cells: nrow * ncol strings (NULL cells print empty). Copied. */
void report_table(report *r, const char *caption, int ncol, const char *const *head, int nrow,
		  const char *const *cells);
/* Bar or attribution chart: n labelled values (attribution bars may be negative). */
void report_bars(report *r, report_chart kind, const char *title, int n,
		 const char *const *labels, const double *values);
/* Line or Kaplan-Meier chart: starts an empty chart; add series with report_add_series. */
void report_xy(report *r, report_chart kind, const char *title, const char *xlabel,
	       const char *ylabel);
/* Adds a series of n points to the last block (which must be a line or KM chart). */
void report_add_series(report *r, const char *name, int n, const double *x, const double *y);

/* Extras for the last block (ignored when it is not a chart of the kind named):
 * a band lo..hi around the last series (KM) or its intervals (interval chart, n values);
 * censoring times of the last KM series; the at-risk table (nt times, the last series'
 * counts; the times are taken from the first call); the axis range of an attribution or
 * interval chart; the interval chart's band, log axis and reference line; the diagonal. */
void report_series_band(report *r, const double *lo, const double *hi);
void report_series_censor(report *r, int n, const double *t);
void report_series_at_risk(report *r, int nt, const double *t, const long *count);
void report_set_range(report *r, double lo, double hi);
void report_set_band(report *r, double lo, double hi, int logx, double ref);
void report_set_ideal(report *r);
/* Interval chart: n labelled estimates with lo..hi (NAN: none). */
void report_intervals(report *r, const char *title, const char *xlabel, int n,
		      const char *const *labels, const double *est, const double *lo,
		      const double *hi);

/* Renders into out. CSV writes every table (RFC 4180 quoting; a blank line between tables).
 * Markdown writes charts as tables of their data; HTML is one self-contained page with SVG. */
void report_render(const report *r, report_format fmt, lm_buf *out);
/* "md", "csv", "html" -> format; -1 when unknown. */
int report_format_parse(const char *s);

#endif
