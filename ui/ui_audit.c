/* ui_audit.c: the Audit screen: the model's stored out-of-fold predictions audited across
 * patient groups by the audit module (groups.h builds the groups, audit.h the metrics,
 * disparities against the reference group, four-fifths flags, small-group marks, Fairlearn
 * summaries and, on `b`, bootstrap intervals). Disparities carry an arrow and a '!' when the
 * interval excludes parity, so colour is never the only sign. On `w` the screen shows instead
 * "why the groups differ" from audit_why.h (the module `lumen audit` prints it from): the
 * model's top inputs by mean |integrated gradient| overall and per group, and the warnings. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <math.h>
#include <ncurses.h>
#include <stdlib.h>
#include <string.h>

#include "../src/stats/audit.h"
#include "../src/stats/audit_why.h"
#include "../src/stats/groups.h"
#include "../src/ops/ops.h"
#include "../src/data/labels.h"
#include "ui_effect.h"
#include "ui_impl.h"

#define AUDIT_BOOT 200

static const int shown[] = {AM_N, AM_PREV, AM_SEL, AM_TPR, AM_FPR, AM_PPV, AM_AUC, AM_BRIER};

static struct astate {
	int done;
	long model_id;
	double threshold;
	int n_boot;
	char spec[200];
	char err[300];
	ops_audit au; /* groups in au.g, the result in au.r */
	int have_au;
	audit_why why;
	int have_why;
	char why_err[300];
} as;

/* `w`: the why panel instead of the metrics; kept across re-runs of the audit */
static int show_why;

void ui_audit_release(void)
{
	if (as.have_why)
		audit_why_free(&as.why);
	if (as.have_au)
		ops_audit_free(&as.au);
	memset(&as, 0, sizeof as);
}

/* A default grouping: the first group column. */
static void default_spec(ui_app *a, char *spec, size_t len)
{
	store_columns cols;
	spec[0] = 0;
	if (store_columns_load(a->db, "patients", &cols, NULL))
		return;
	int k = store_columns_role(&cols, COL_ROLE_GROUP);
	if (k >= 0)
		snprintf(spec, len, "%s", cols.c[k].name);
	store_columns_free(&cols);
}

static void run_audit(ui_app *a)
{
	if (as.done && as.model_id == a->co.model_id && as.threshold == a->threshold &&
	    !strcmp(as.spec, a->audit_spec) && as.n_boot == a->audit_boot)
		return;
	ui_audit_release();
	as.done = 1;
	as.model_id = a->co.model_id;
	as.threshold = a->threshold;
	as.n_boot = a->audit_boot;
	if (!a->audit_spec[0])
		default_spec(a, a->audit_spec, sizeof a->audit_spec);
	snprintf(as.spec, sizeof as.spec, "%s", a->audit_spec);
	if (a->co.model_id < 0) {
		snprintf(as.err, sizeof as.err, "no model has predictions yet: lumen train, then come back");
		return;
	}
	if (!as.spec[0]) {
		snprintf(as.err, sizeof as.err, "no group column: press g and name one (e.g. sex, or age with cut points)");
		return;
	}
	/* "COL[,COL] [; COL=C1,C2 ...]": the columns to group by, then bins for numeric ones */
	char spec[200], *bins[8];
	int nb = 0;
	snprintf(spec, sizeof spec, "%s", as.spec);
	char *semi = strchr(spec, ';');
	if (semi) {
		*semi = 0;
		char *save = NULL;
		for (char *t = strtok_r(semi + 1, ";", &save); t && nb < 8; t = strtok_r(NULL, ";", &save)) {
			while (*t == ' ')
				t++;
			if (*t)
				bins[nb++] = t;
		}
	}
	for (size_t n = strlen(spec); n > 0 && spec[n - 1] == ' ';)
		spec[--n] = 0;
	/* the audit of `lumen audit` (src/ops), at the screen's threshold */
	lm_err err = {0};
	ops_audit_opts ao = {.model = a->co.model_name, .by = spec, .bins = bins, .nbins = nb,
			     .a = {.threshold = a->threshold, .ref = -1, .tolerance = 0.8,
				   .n_boot = a->audit_boot, .seed = 1, .threads = 2}};
	if (ops_audit_run(a->db, &ao, &as.au, &err)) {
		snprintf(as.err, sizeof as.err, "%.290s", err.msg);
		ops_audit_free(&as.au);
		return;
	}
	as.have_au = 1;
	/* the groups shown in words ("sex=f" -> "Sex female" when sex has words, labels.h);
	 * the screen's own copy, after the audit has run */
	store_columns cols;
	if (store_columns_load(a->db, "patients", &cols, NULL) == 0) {
		for (int g = 0; g < as.au.g.n; g++) {
			char w[300];
			lbl_group_text(&cols, as.au.g.label[g], w, sizeof w);
			free(as.au.g.label[g]);
			as.au.g.label[g] = xstrdup(w);
		}
		store_columns_free(&cols);
	}
	/* over the same patients as the audit; an SQL error is said in the panel only */
	if (audit_why_compute(a->db, a->co.model_id, as.au.rowid, as.au.group, as.au.nrow,
			      as.au.g.n, spec, &as.why, &err))
		snprintf(as.why_err, sizeof as.why_err, "%.290s", err.msg);
	as.have_why = 1;
}

/* The why panel from row y: top inputs (rows) by all and per group (columns, as many as fit),
 * each group's own top input, then the warnings. */
static void why_draw(ui_app *a, int y)
{
	const audit_why *w = &as.why;
	char t[600];
	if (as.why_err[0] || w->used == 0) {
		/* the one line, wrapped at a space when the terminal is narrower than it */
		const char *msg = as.why_err[0] ? as.why_err : audit_why_missing;
		int width = COLS - 4 > 20 ? COLS - 4 : 20;
		attron((attr_t)ui_attr_of(a, UI_A_WARN));
		while (*msg && y < LINES - 1) {
			int n = (int)strlen(msg);
			if (n > width) {
				n = width;
				while (n > 0 && msg[n] != ' ')
					n--;
				if (n == 0)
					n = width;
			}
			snprintf(t, sizeof t, "%.*s", n, msg);
			ui_put(y++, 2, width, t);
			msg += n;
			while (*msg == ' ')
				msg++;
		}
		attroff((attr_t)ui_attr_of(a, UI_A_WARN));
		return;
	}
	snprintf(t, sizeof t, "Why the groups differ: mean |integrated gradient| per input (%ld patients)",
		 w->used);
	ui_put(y++, 0, COLS, t);
	int lw = 16, cw = 11, bw = 10;
	int ng = 0;
	while (ng < w->G && lw + cw + bw + (ng + 1) * cw <= COLS)
		ng++;
	attron((attr_t)ui_attr_of(a, UI_A_HEADER));
	ui_fill(y, 0, COLS, ' ');
	ui_put(y, 0, lw, "input");
	ui_put(y, lw, cw, "        all");
	for (int g = 0; g < ng; g++) {
		snprintf(t, sizeof t, " %10.10s", as.au.g.label[g]);
		ui_put(y, lw + cw + bw + g * cw, cw, t);
	}
	attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
	y++;
	double vmax = w->ntop ? w->all[w->top[0]] : 0;
	for (int k = 0; k < w->ntop && y < LINES - 3; k++, y++) {
		int j = w->top[k];
		snprintf(t, sizeof t, "%d %.13s", k + 1, w->name[j]);
		ui_put(y, 0, lw, t);
		snprintf(t, sizeof t, "%11.4f", w->all[j]);
		ui_put(y, lw, cw, t);
		ui_bar(a, y, lw + cw + 1, bw - 2, vmax > 0 ? w->all[j] / vmax : 0);
		for (int g = 0; g < ng; g++) {
			double v = AUDIT_WHY_PER(w, g, j);
			if (isnan(v))
				snprintf(t, sizeof t, "%11s", ".");
			else
				snprintf(t, sizeof t, "%11.4f", v);
			ui_put(y, lw + cw + bw + g * cw, cw, t);
		}
	}
	if (y < LINES - 3) {
		/* each group's own most important input, in words */
		lm_buf b = {0};
		buf_puts(&b, "top within each group:");
		for (int g = 0; g < w->G; g++) {
			int j = audit_why_group_top(w, g);
			buf_printf(&b, " %s %s%s", as.au.g.label[g], j >= 0 ? w->name[j] : "-",
				   g + 1 < w->G ? ";" : "");
		}
		y += 1 + ui_wrap(y + 1, 0, COLS - 1, 3, b.data); /* wraps, never runs off */
		buf_free(&b);
		y += 1;
	}
	int nwarn = 0;
	attron((attr_t)ui_attr_of(a, UI_A_WARN));
	for (int k = 0; k < w->ntop && y < LINES - 1; k++) {
		if (w->warn[k] == AUDIT_WHY_NONE)
			continue;
		char msg[512];
		snprintf(t, sizeof t, "! warning: %s", audit_why_warning(w, k, msg, sizeof msg));
		y += ui_wrap(y, 0, COLS - 1, LINES - 1 - y, t);
		nwarn++;
	}
	attroff((attr_t)ui_attr_of(a, UI_A_WARN));
	if (!nwarn && y < LINES - 1)
		ui_put(y, 0, COLS, "no grouping column and no proxy for one among the top inputs");
}

static void audit_draw(ui_app *a)
{
	if (a->threshold <= 0)
		a->threshold = 0.5;
	run_audit(a);
	char t[256];
	snprintf(t, sizeof t, "Audit of %.60s by %.100s at threshold %.2f%s", a->co.model_id >= 0 ? a->co.model_name : "-",
		 as.spec[0] ? as.spec : "-", a->threshold,
		 as.n_boot ? ", 95% bootstrap intervals" : "");
	ui_put_fit(1, 0, COLS, t);
	if (as.err[0]) {
		attron((attr_t)ui_attr_of(a, UI_A_WARN));
		ui_put(3, 2, COLS - 4, as.err);
		attroff((attr_t)ui_attr_of(a, UI_A_WARN));
		return;
	}
	if (!as.have_au)
		return;
	if (ui_effect_audit_shown(a)) { /* an effect model: who would be helped (ui_effect.c) */
		ui_effect_audit_draw(a, 3, as.spec);
		return;
	}
	if (show_why) {
		why_draw(a, 3);
		return;
	}
	const audit_result *r = &as.au.r;
	int lw = 20, cw = 8;
	/* as many metric columns as fit (Brier needs 88 columns) */
	int nshow = 0;
	while (nshow < (int)LM_ARRAY_LEN(shown) && lw + (nshow + 1) * cw <= COLS)
		nshow++;
	attron((attr_t)ui_attr_of(a, UI_A_HEADER));
	ui_fill(2, 0, COLS, ' ');
	ui_put(2, 0, lw, "group");
	for (int k = 0; k < nshow; k++)
		ui_put(2, lw + k * cw, cw, audit_metrics[shown[k]].title);
	attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
	int y = 3;
	for (int g = 0; g < r->G && y < LINES - 6; g++) {
		/* the reference and small groups are marked in words */
		snprintf(t, sizeof t, "%s%s", as.au.g.label[g], g == r->ref ? " ref" : r->small[g] ? " (s)" : "");
		/* a long label ("sex=f,age 65-80 ref") wraps onto the row below, not cut */
		int lines = ui_wrap(y, 0, lw - 1, 2, t);
		for (int k = 0; k < nshow; k++) {
			int m = shown[k];
			double v = r->val[AUDIT_AT(g, m)];
			int fl = r->flag[AUDIT_AT(g, m)];
			if (m == AM_N)
				snprintf(t, sizeof t, "%6.0f", v);
			else if (isnan(v))
				snprintf(t, sizeof t, "     .");
			else
				snprintf(t, sizeof t, "%6.3f%s%s", v,
					 fl > 0 ? (a->ascii ? "^" : "▲") : fl < 0 ? (a->ascii ? "v" : "▼") : "",
					 r->sig[AUDIT_AT(g, m)] ? "!" : "");
			if (fl)
				attron((attr_t)ui_attr_of(a, fl > 0 ? UI_A_POS : UI_A_NEG));
			ui_put(y, lw + k * cw, cw, t);
			if (fl)
				attroff((attr_t)ui_attr_of(a, fl > 0 ? UI_A_POS : UI_A_NEG));
		}
		y++;
		if (r->n_boot > 0 && y < LINES - 6) {
			attron((attr_t)ui_attr_of(a, UI_A_DIM));
			for (int k = 1; k < nshow; k++) {
				int m = shown[k];
				double lo = r->lo[AUDIT_AT(g, m)], hi = r->hi[AUDIT_AT(g, m)];
				if (isnan(lo) || isnan(hi))
					continue;
				/* ".32-.40": without the leading zeros it fits the column */
				char l[16], h[16];
				snprintf(l, sizeof l, "%.2f", lo);
				snprintf(h, sizeof h, "%.2f", hi);
				snprintf(t, sizeof t, "%s-%s", l[0] == '0' ? l + 1 : l, h[0] == '0' ? h + 1 : h);
				ui_put(y, lw + k * cw, cw - 1, t);
			}
			attroff((attr_t)ui_attr_of(a, UI_A_DIM));
			y++;
		} else if (lines > 1) {
			y++;
		}
	}
	y++;
	const audit_summary *s = &r->sum;
	snprintf(t, sizeof t, "demographic parity diff %.3f, ratio %.3f", s->dp_diff, s->dp_ratio);
	ui_put(y++, 2, COLS - 2, t);
	snprintf(t, sizeof t, "equalised odds diff %.3f, ratio %.3f; equal opportunity diff %.3f",
		 s->eodds_diff, s->eodds_ratio, s->eopp_diff);
	y += ui_wrap(y, 2, COLS - 3, 2, t);
	snprintf(t, sizeof t, "%s/%s ratio to ref above 1.25/below 0.8; ! interval excludes 1; (s) n < %d",
		 a->ascii ? "^" : "▲", a->ascii ? "v" : "▼", AUDIT_MIN_N);
	y += ui_wrap(y, 2, COLS - 3, 2, t);
}

static void group_done(ui_app *a, const char *text)
{
	snprintf(a->audit_spec, sizeof a->audit_spec, "%s", text);
}
static void k_group(ui_app *a)
{
	ui_start_prompt(a, "group by (COL[,COL] [; COL=C1,C2]): ", "", group_done);
}
static void k_boot(ui_app *a) { a->audit_boot = a->audit_boot ? 0 : AUDIT_BOOT; }
static void k_why(ui_app *a)
{
	(void)a;
	show_why = !show_why;
}
static void k_up(ui_app *a) { ui_threshold_step(a, 1); }
static void k_down(ui_app *a) { ui_threshold_step(a, -1); }

static const ui_key audit_keys[] = {
	{{'g'}, "g", "grouping: columns, intersections (sex,stage), bins (; age=50,65)", k_group},
	{{'b'}, "b", "bootstrap 95% intervals (200 replicates) on/off", k_boot},
	{{'w'}, "w", "why the groups differ: top inputs, warnings on/off", k_why},
	{{'e'}, "e", "effect model: the benefit by group (who would be helped) on/off",
	 ui_effect_audit_key},
	{{'+', '='}, "+", "raise the threshold by 0.05", k_up},
	{{'-', '_'}, "-", "lower the threshold by 0.05", k_down},
	{{0}, NULL, NULL, NULL},
};

const ui_screen ui_audit_screen = {"Audit", audit_draw, audit_keys, NULL};
