/* cmd_survival.c: `lumen survival`: Kaplan–Meier curves per group, the log-rank test and a
 * terminal chart (the statistics live in src/stats/km.c). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../data/store.h"
#include "../ops/ops.h"
#include "cli.h"

#define CMD "survival"
#define CHART_W 72
#define CHART_H 17

static const char usage[] =
	"Usage: lumen survival FILE --time COL --event COL[=VALUE] [--by COL[,COL] |\n"
	"                      --by risk:MODEL[:K]] [--bins COL=C1,C2] [--times T,T,...]\n"
	"                      [--json] [--ascii]\n"
	"Kaplan-Meier survival per group with 95% intervals (Greenwood variance, log transform\n"
	"as R's survfit), median survival, numbers at risk at the start of each time, the\n"
	"log-rank test across groups and a chart of the curves.\n"
	"  --time COL         follow-up time (>= 0); missing or negative times are left out\n"
	"  --event COL[=V]    event indicator: 0/1, two numeric codes (the larger is the event),\n"
	"                     or COL=V making the value V the event and all others censored\n"
	"  --by COL[,COL]     groups (intersections with several columns)\n"
	"  --by risk:MODEL:K  K strata (default 3, tertiles) of MODEL's out-of-fold predictions\n"
	"  --bins COL=C1,C2   cut a numeric grouping column at these points\n"
	"  --times T,T,...    times for survival and numbers at risk (default: 4 round times)\n"
	"  --json             machine-readable output\n"
	"  --ascii            draw the chart with ASCII characters instead of Unicode braille\n";

typedef struct surv_opts {
	const char *file, *time, *event, *by;
	char *bins[16];
	int nbins;
	double times[32];
	int ntimes;
	int json, ascii;
} surv_opts;

/* ---- the chart ---- */

static void put_utf8_braille(lm_buf *b, unsigned bits)
{
	unsigned cp = 0x2800 + bits;
	char s[3] = {(char)(0xE0 | (cp >> 12)), (char)(0x80 | ((cp >> 6) & 0x3F)),
		     (char)(0x80 | (cp & 0x3F))};
	buf_add(b, s, 3);
}

static void draw_chart(lm_buf *out, const km_curve *c, int G, char *const *label, int ascii)
{
	/* 5 columns of labels, the axis, then W columns of plot: CHART_W in all */
	const int W = CHART_W - 6, H = CHART_H;
	double tmax = 0;
	for (int g = 0; g < G; g++)
		if (c[g].m && c[g].time[c[g].m - 1] > tmax)
			tmax = c[g].time[c[g].m - 1];
	if (!(tmax > 0))
		tmax = 1;
	/* sub-cell resolution: braille has 2 x 4 dots per cell, ASCII one mark per cell */
	int sx = ascii ? 1 : 2, sy = ascii ? 1 : 4, DW = W * sx, DH = H * sy;
	unsigned char *dots = xcalloc((size_t)DW * (size_t)DH, 1); /* group + 1, 0 = empty */
	/* each curve is numbered at its last point, since braille dots carry no identity */
	int *mark = xmallocarray((size_t)W * (size_t)H, sizeof *mark);
	for (int i = 0; i < W * H; i++)
		mark[i] = 0;
	for (int g = 0; g < G; g++) {
		int prev = -1, lastx = -1;
		double tend = c[g].m ? c[g].time[c[g].m - 1] : 0;
		for (int x = 0; x < DW; x++) {
			double t = tmax * x / (DW - 1);
			if (t > tend)
				break;
			double s = km_surv_at(&c[g], t, NULL, NULL);
			int y = (int)lround((1 - s) * (DH - 1));
			int y0 = prev < 0 ? y : prev;
			for (int yy = y0 < y ? y0 : y; yy <= (y0 < y ? y : y0); yy++)
				dots[(size_t)yy * DW + x] = (unsigned char)(g + 1);
			prev = y;
			lastx = x;
		}
		if (lastx >= 0 && !ascii)
			mark[(prev / sy) * W + lastx / sx] = g + 1;
	}
	for (int row = 0; row < H; row++) {
		double yv = 1 - (double)row / (H - 1);
		if (row == 0 || row == H - 1 || row == (H - 1) / 2)
			buf_printf(out, "%4.2f ", yv);
		else
			buf_puts(out, "     ");
		buf_puts(out, ascii ? "|" : "\xe2\x94\x82");
		for (int col = 0; col < W; col++) {
			if (ascii) {
				int g = dots[(size_t)row * DW + col];
				char ch = g ? (char)(g <= 9 ? '0' + g : 'a' + g - 10) : ' ';
				buf_add(out, &ch, 1);
				continue;
			}
			int mk = mark[row * W + col];
			if (mk) {
				char ch = (char)(mk <= 9 ? '0' + mk : 'a' + mk - 10);
				buf_add(out, &ch, 1);
				continue;
			}
			static const unsigned bit[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20},
							   {0x40, 0x80}};
			unsigned bits = 0;
			for (int dy = 0; dy < 4; dy++)
				for (int dx = 0; dx < 2; dx++)
					if (dots[(size_t)(row * 4 + dy) * DW + col * 2 + dx])
						bits |= bit[dy][dx];
			if (bits)
				put_utf8_braille(out, bits);
			else
				buf_puts(out, " ");
		}
		buf_puts(out, "\n");
	}
	buf_puts(out, "     ");
	if (ascii) {
		buf_puts(out, "+");
		for (int i = 0; i < W; i++)
			buf_puts(out, "-");
	} else {
		buf_puts(out, "\xe2\x94\x94");
		for (int i = 0; i < W; i++)
			buf_puts(out, "\xe2\x94\x80");
	}
	char tl[32];
	snprintf(tl, sizeof tl, "%.6g", tmax);
	buf_printf(out, "\n     0%*s\n", W, tl);
	for (int g = 0; g < G; g++) {
		double te = c[g].m ? c[g].time[c[g].m - 1] : 0;
		buf_printf(out, "     %c = %s (last follow-up t=%.6g, S=%.3f)\n",
			   g < 9 ? '1' + g : 'a' + g - 9, label[g], te,
			   c[g].m ? c[g].surv[c[g].m - 1] : 1.0);
	}
	free(dots);
	free(mark);
}

/* ---- output ---- */

static void fmt_num(char *b, size_t n, double v, const char *f)
{
	if (isnan(v))
		snprintf(b, n, "NA");
	else
		snprintf(b, n, f, v);
}

static void print_text(const surv_opts *o, const ops_survival *d)
{
	const km_curve *c = d->curve;
	const double *times = d->times;
	int nt = d->ntimes;
	const km_logrank *lr = d->have_lr ? &d->lr : NULL;
	lm_buf b = {0};
	long ev = d->events;
	buf_printf(&b, "Kaplan-Meier survival: time %s\nevent: %s\n", o->time, d->event_desc);
	buf_printf(&b, "%ld patients, %ld events", d->n, ev);
	long out = d->miss_time + d->neg_time + d->miss_event + d->miss_group;
	if (out)
		buf_printf(&b, "; left out %ld:\n  time missing %ld, negative %ld; event missing %ld; "
			       "group missing %ld",
			   out, d->miss_time, d->neg_time, d->miss_event, d->miss_group);
	buf_puts(&b, "\n95% intervals: Greenwood variance, log transform (R conf.type=\"log\").\n"
		     "At risk: patients still followed at the start of each time (time >= t,\n"
		     "as R; lifelines reports the end of the period).\n");
	for (int g = 0; g < d->G; g++) {
		char m[32], lo[32], hi[32];
		fmt_num(m, sizeof m, c[g].median, "%.6g");
		fmt_num(lo, sizeof lo, c[g].median_lower, "%.6g");
		fmt_num(hi, sizeof hi, c[g].median_upper, "%.6g");
		buf_printf(&b, "\n%s: n %ld, events %ld, median %s (95%% CI %s to %s)\n", d->label[g],
			   c[g].n, c[g].events, m, lo, hi);
		buf_printf(&b, "  %10s %8s %9s %17s\n", "time", "at risk", "survival", "95% CI");
		for (int k = 0; k < nt; k++) {
			double l, h, s = km_surv_at(&c[g], times[k], &l, &h);
			char ls[16], hs[16];
			fmt_num(ls, sizeof ls, l, "%.3f");
			fmt_num(hs, sizeof hs, h, "%.3f");
			buf_printf(&b, "  %10.6g %8ld %9.3f %8s-%-8s\n", times[k], km_at_risk(&c[g], times[k]),
				   s, ls, hs);
		}
	}
	if (lr) {
		buf_printf(&b, "\nLog-rank test: chi-square %.3f on %d df, p = %.3g\n", lr->chisq, lr->df,
			   lr->p);
		buf_printf(&b, "  %-28s %9s %9s\n", "group", "observed", "expected");
		for (int g = 0; g < d->G; g++)
			buf_printf(&b, "  %-28s %9.0f %9.2f\n", d->label[g], lr->obs[g], lr->expected[g]);
	}
	buf_puts(&b, "\n");
	draw_chart(&b, c, d->G, d->label, o->ascii);
	fputs(b.data, stdout);
	buf_free(&b);
}

static int parse_times(const char *s, surv_opts *o)
{
	char *copy = xstrdup(s), *save = NULL;
	o->ntimes = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		double v;
		if (o->ntimes == 32 || parse_double(t, &v) != 0 || !(v >= 0) || isinf(v)) {
			free(copy);
			return -1;
		}
		o->times[o->ntimes++] = v;
	}
	free(copy);
	return o->ntimes ? 0 : -1;
}

int cmd_survival(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"time", required_argument, NULL, 't'}, {"event", required_argument, NULL, 'e'},
		{"by", required_argument, NULL, 'b'},   {"bins", required_argument, NULL, 'B'},
		{"times", required_argument, NULL, 'T'}, {"json", no_argument, NULL, 'j'},
		{"ascii", no_argument, NULL, 'a'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	surv_opts o;
	memset(&o, 0, sizeof o);
	optind = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 't': o.time = optarg; break;
		case 'e': o.event = optarg; break;
		case 'b': o.by = optarg; break;
		case 'B':
			if (o.nbins == 16)
				return cli_usage_error(CMD, "--bins: at most 16");
			o.bins[o.nbins++] = optarg;
			break;
		case 'T':
			if (parse_times(optarg, &o) != 0)
				return cli_usage_error(CMD, "--times: '%s' is not a list of times >= 0", optarg);
			break;
		case 'j': o.json = 1; break;
		case 'a': o.ascii = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: return cli_usage_error(CMD, "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(CMD, "expected one workbench FILE");
	o.file = argv[optind];
	if (!o.time || !o.event)
		return cli_usage_error(CMD, "--time and --event are required");
	if (o.by && !strcmp(o.by, "risk:"))
		return cli_usage_error(CMD, "--by risk:MODEL[:K] needs a model name");

	lm_err err = {0};
	sqlite3 *db = store_open(o.file, 1, &err);
	if (!db) {
		lm_report(CMD, &err);
		return err.status;
	}
	ops_survival_opts so = {.time = o.time, .event = o.event, .by = o.by, .bins = o.bins,
				.nbins = o.nbins, .times = o.times, .ntimes = o.ntimes};
	ops_survival d;
	int st = ops_survival_run(db, &so, &d, &err);
	store_close(db);
	if (st) {
		ops_survival_free(&d);
		lm_report(CMD, &err);
		return st;
	}
	long out = d.miss_time + d.neg_time + d.miss_event + d.miss_group;
	if (out)
		fprintf(stderr,
			"lumen: survival: warning: %ld patients left out (time missing %ld, negative %ld; "
			"event missing %ld; group missing %ld)\n",
			out, d.miss_time, d.neg_time, d.miss_event, d.miss_group);
	if (d.empty)
		fprintf(stderr, "lumen: survival: warning: %ld combinations of --by %s have no patient\n",
			d.empty, o.by);
	if (o.json) {
		char *js = json_take(ops_survival_json(&d));
		puts(js);
		free(js);
	} else {
		print_text(&o, &d);
	}
	ops_survival_free(&d);
	return 0;
}
