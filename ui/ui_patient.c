/* ui_patient.c: the Patient screen: draws the patient view of src/ops (ops_patient_load:
 * values, cohort percentiles, the risk, its reasons and what-if) and handles its keys; `v`
 * shows the visits as sparklines, a heat map against the cohort and a curve of one lab.
 *
 * The number shown is the number explained: the risk on line 4 is the one the bars below add
 * up to (baseline + sum of attributions = its logit), and the screen says which network
 * produced it (the fold model that held the patient out, or the final model). What-if
 * (`e` edit a value, `t` switch the treatment arm, `r` reset) explains the edited values with
 * the same network and writes nothing. `a` switches between integrated gradients (signed,
 * "lowers risk | raises risk") and, for a transformer, attention rollout weights (unsigned:
 * how much the model looked at a column, not a direction); for a GRU with attention over
 * visits it opens the visits (v) with a row of the weights per visit, aligned with the
 * sparklines and the heat maps. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <math.h>
#include <ncurses.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/ops/ops.h"
#include "ui_effect.h"
#include "../src/data/labels.h"
#include "ui_impl.h"

/* What the screen shows for one (patient, model); reloaded when either changes. */
static struct pstate {
	long rowid, model_id;
	int loaded;
	char id[64];
	char demo[256];
	char err[256];
	ops_patient pv;
	int have_pv;
	ops_visits vis;
	/* a survival model: the curve view (c), the cohort's Kaplan-Meier (loaded once per model)
	 * and the horizon the user picked (h; NAN: the model's own) */
	int curve_view;
	ops_survival km;
	long km_model;
	int have_km;
	double horizon;
} ps = {.km_model = -1, .horizon = NAN};

static void draw_visits(ui_app *a, int y0);
static void draw_curve(ui_app *a, int y0);

static void pstate_clear(int keep_model)
{
	ops_patient old = ps.pv;
	int had = ps.have_pv;
	/* the curve view, the Kaplan-Meier and the horizon outlive a change of patient */
	int curve_view = ps.curve_view, have_km = ps.have_km;
	ops_survival km = ps.km;
	long km_model = ps.km_model;
	double horizon = ps.horizon;
	ops_visits_free(&ps.vis);
	memset(&ps, 0, sizeof ps);
	ps.km_model = -1;
	ps.horizon = NAN;
	if (keep_model) {
		ps.curve_view = curve_view;
		ps.km = km;
		ps.have_km = have_km;
		ps.km_model = km_model;
		ps.horizon = horizon;
	} else if (have_km) {
		ops_survival_free(&km);
	}
	if (had && keep_model) { /* kept for the next view of the same model */
		ps.pv = old;
		ps.have_pv = 2;
	} else if (had) {
		ops_patient_free(&old);
	}
}

static void ensure_loaded(ui_app *a)
{
	if (ps.loaded && ps.rowid == a->patient && ps.model_id == a->co.model_id)
		return;
	pstate_clear(1);
	ops_patient prev = ps.pv;
	int have_prev = ps.have_pv;
	memset(&ps.pv, 0, sizeof ps.pv);
	ps.have_pv = 0;
	ps.rowid = a->patient;
	ps.model_id = a->co.model_id;
	ps.loaded = 1;
	ops_record rec;
	if (ops_record_load(a->db, a->patient, &rec, NULL) == 0) {
		snprintf(ps.id, sizeof ps.id, "%s", rec.id);
		snprintf(ps.demo, sizeof ps.demo, "%s", rec.demo);
	}
	if (a->co.model_id >= 0) {
		/* the model and its baseline are loaded once per model (the status line says so
		 * before the first, possibly long, load) */
		if (!have_prev) {
			ui_fill(LINES - 1, 0, COLS, ' ');
			attron((attr_t)ui_attr_of(a, UI_A_WARN));
			ui_put(LINES - 1, 0, COLS, "loading the model and its cohort-mean baseline ...");
			attroff((attr_t)ui_attr_of(a, UI_A_WARN));
			wnoutrefresh(stdscr);
			doupdate();
		}
		lm_err err = {0};
		ops_patient_opts po = {.model = a->co.model_name, .rowid = a->patient, .cls = -1,
				       .prev = have_prev ? &prev : NULL};
		if (ops_patient_load(a->db, &po, &ps.pv, &err)) {
			snprintf(ps.err, sizeof ps.err, "%.250s", err.msg);
			ops_patient_free(&ps.pv);
		} else {
			ps.have_pv = 1;
		}
	}
	if (have_prev)
		ops_patient_free(&prev);
	ops_visits_load(a->db, a->patient, &ps.vis, NULL);
}

/* The heading row of a factor table: factor, value, percentile, the bar axis at column bx
 * (barw wide; signed for attributions, a plain scale for weights) and the number column. */
/* The widths of the factor table: the labels and values (with their units) as wide as they
 * need, within what leaves the bars at least 20 columns. */
static void factor_widths(const ops_patient *pv, int *nw, int *vw)
{
	int n = 6, v = 5;
	for (int i = 0; i < pv->nfactor; i++) {
		const ops_factor *f = &pv->f[i];
		int l = ui_text_width(f->label) + (f->edited ? 2 : 0);
		char t[128];
		snprintf(t, sizeof t, "%s%s%s", f->value, f->unit[0] && isfinite(f->num) ? " " : "",
			 f->unit[0] && isfinite(f->num) ? f->unit : "");
		int w = ui_text_width(t);
		if (l > n)
			n = l;
		if (w > v)
			v = w;
	}
	int room = COLS - 2 - 1 - 1 - 5 - 1 - 20 - 1 - 9; /* the rest of a line */
	int nmax = COLS >= 110 ? 28 : 20, vmax = 18;
	*nw = n < nmax ? n : nmax;
	*vw = v < vmax ? v : vmax;
	if (*nw + *vw > room) {
		*vw = room / 2 < *vw ? (room - *nw > room / 2 ? room - *nw : room / 2) : *vw;
		*nw = room - *vw < *nw ? room - *vw : *nw;
	}
}

static void factor_header(ui_app *a, int y0, int nw, int vw, int bx, int barw, int numw,
			  const char *num, int weights)
{
	attron((attr_t)ui_attr_of(a, UI_A_HEADER));
	ui_fill(y0, 0, COLS, ' ');
	ui_put(y0, 2, nw, "factor");
	ui_put(y0, 3 + nw + vw - 5, 5, "value");
	ui_put(y0, 4 + nw + vw, 5, " pct");
	char axis[128];
	if (weights)
		snprintf(axis, sizeof axis, "attention weight (unsigned: where it looked)");
	else
		snprintf(axis, sizeof axis, "%*s%s", barw / 2 - (barw >= 26 ? 13 : 8) > 0 ?
			 barw / 2 - (barw >= 26 ? 13 : 8) : 0, "",
			 barw >= 26 ? "lowers risk | raises risk" : "lowers | raises");
	ui_put(y0, bx, barw, axis);
	ui_put(y0, bx + barw + 1, numw, num);
	attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
}

static int cmp_weight(const void *x, const void *y)
{
	const ops_factor *p = *(const ops_factor *const *)x, *q = *(const ops_factor *const *)y;
	return (p->weight < q->weight) - (p->weight > q->weight);
}

static void draw_factors(ui_app *a, int y0)
{
	const ops_patient *pv = &ps.pv;
	int weights = a->method == 1 && pv->nfactor > 0 && !isnan(pv->f[0].weight);
	int nw, vw;
	factor_widths(pv, &nw, &vw);
	int n = pv->nfactor, bx = 2 + nw + 1 + vw + 1 + 5 + 1, numw = pv->edited && !weights ? 16 : 8;
	int barw = COLS - bx - 1 - numw;
	if (barw < 10)
		barw = 10;
	factor_header(a, y0, nw, vw, bx, barw, numw,
		      weights ? "  weight" : pv->edited ? "    was     now" : "    attr", weights);
	const ops_factor **ord = xmallocarray((size_t)(n ? n : 1), sizeof *ord);
	double vmax = 0;
	for (int i = 0; i < n; i++) {
		ord[i] = &pv->f[i];
		double v = weights ? pv->f[i].weight : fmax(fabs(pv->f[i].attr), fabs(pv->f[i].attr0));
		if (v > vmax)
			vmax = v;
	}
	if (weights)
		qsort(ord, (size_t)n, sizeof *ord, cmp_weight);
	int h = LINES - 1 - y0 - 1;
	if (a->pat_scroll > n - h)
		a->pat_scroll = n - h > 0 ? n - h : 0;
	for (int i = 0; i < h && a->pat_scroll + i < n; i++) {
		const ops_factor *f = ord[a->pat_scroll + i];
		int y = y0 + 1 + i;
		char t[64];
		/* an edited value is marked with '*' (not only by colour) */
		char lab[160];
		snprintf(lab, sizeof lab, "%s%s", f->label, f->edited ? " *" : "");
		if (f->edited && ui_text_width(lab) > nw) { /* the mark survives a cut label */
			ui_put_fit(y, 2, nw - 2, f->label);
			ui_put(y, nw, 2, " *");
		} else {
			ui_put_fit(y, 2, nw, lab);
		}
		/* numbers (with their unit) right-aligned, words left */
		char val[160];
		int num = isfinite(f->num) && !f->is_share;
		snprintf(val, sizeof val, "%s%s%s", f->value, f->unit[0] && num ? " " : "",
			 f->unit[0] && num ? f->unit : "");
		int w = ui_text_width(val);
		ui_put_fit(y, 3 + nw + (num && w < vw ? vw - w : 0), vw, val);
		if (!isnan(f->pct) && !f->is_share) {
			snprintf(t, sizeof t, "%3.0f%%", f->pct);
			ui_put(y, 4 + nw + vw, 5, t);
		}
		if (weights) {
			ui_bar(a, y, bx, barw, vmax > 0 ? f->weight / vmax : 0);
			snprintf(t, sizeof t, "%8.3f", f->weight);
		} else {
			ui_signed_bar(a, y, bx, barw, f->attr, vmax);
			/* the sign is written out, so direction never depends on colour */
			if (pv->edited)
				snprintf(t, sizeof t, "%+7.3f %+7.3f", f->attr0, f->attr);
			else
				snprintf(t, sizeof t, "%+8.3f", f->attr);
		}
		ui_put(y, bx + barw + 1, numw, t);
	}
	free(ord);
}

static void patient_draw(ui_app *a)
{
	ensure_loaded(a);
	long pos = ui_view_pos(&a->co, a->patient);
	char t[320];
	attron((attr_t)A_BOLD);
	if (pos >= 0)
		snprintf(t, sizeof t, "Patient %s  (%ld of %ld in the current order)", ps.id, pos + 1,
			 ui_view_count(&a->co));
	else
		snprintf(t, sizeof t, "Patient %s", ps.id);
	ui_put(1, 0, COLS, t);
	attroff((attr_t)A_BOLD);
	/* the header block wraps within the width; the table starts below it (row 7 or later) */
	int y = 2;
	y += ui_wrap(y, 2, COLS - 3, 2, ps.demo);
	if (a->co.model_id < 0) {
		ui_put(y++, 2, COLS - 2, "no model has predictions yet: lumen train, then lumen predict");
	} else if (!ps.have_pv) {
		attron((attr_t)ui_attr_of(a, UI_A_WARN));
		y += ui_wrap(y, 2, COLS - 3, 2, ps.err[0] ? ps.err : "no explanation");
		attroff((attr_t)ui_attr_of(a, UI_A_WARN));
	} else {
		const ops_patient *pv = &ps.pv;
		char net[96];
		ops_patient_net_text(pv, net, sizeof net);
		snprintf(t, sizeof t, "model %s (%s): risk of %s | true outcome: %s", pv->model,
			 pv->arch, pv->outcome, isnan(pv->y) ? "unknown" : pv->y ? "yes" : "no");
		y += ui_wrap(y, 2, COLS - 3, 2, t);
		double sum = 0;
		for (int i = 0; i < pv->nfactor; i++)
			sum += pv->f[i].attr;
		if (pv->edited) {
			double d = pv->p - pv->p0;
			char wt[700];
			snprintf(wt, sizeof wt, "what-if: %s   (r resets; nothing is saved)", pv->desc);
			y += ui_wrap(y, 2, COLS - 3, 4, wt);
			snprintf(t, sizeof t, "%s: p = %.3f -> %.3f (%s%.3f, %s)", net, pv->p0, pv->p,
				 d >= 0 ? "+" : "-", fabs(d),
				 d > 0 ? "higher risk" : d < 0 ? "lower risk" : "unchanged");
			attron((attr_t)ui_attr_of(a, UI_A_WARN));
			y += ui_wrap(y, 2, COLS - 3, 2, t);
			if (pv->warn[0])
				y += ui_wrap(y, 2, COLS - 3, 2, pv->warn);
			attroff((attr_t)ui_attr_of(a, UI_A_WARN));
		} else {
			char sd[48] = "", e[32] = "< 0.001";
			if (!isnan(pv->p_sd))
				snprintf(sd, sizeof sd, " +/- %.3f across folds", pv->p_sd);
			snprintf(t, sizeof t, "predicted p = %.3f%s, by %s", pv->p, sd, net);
			y += ui_wrap(y, 2, COLS - 3, 2, t);
			if (!(pv->delta < 0.0005))
				lbl_num(pv->delta, 2, e, sizeof e);
			snprintf(t, sizeof t, "why: ig (%s, %d steps): baseline %.3f %c reasons %.3f = logit %.3f, err %s",
				 pv->baseline, pv->steps, pv->baseline_logit, sum < 0 ? '-' : '+', fabs(sum),
				 pv->logit, e);
			if (ui_text_width(t) > COLS - 3) { /* narrow: the error on a line of its own */
				*strrchr(t, ',') = 0;
				y += ui_wrap(y, 2, COLS - 3, 2, t);
				snprintf(t, sizeof t, "completeness error %s", e);
			}
			y += ui_wrap(y, 2, COLS - 3, 2, t);
		}
		if (pv->nfactor > 0 && !isnan(pv->f[0].weight))
			ui_put(y++, 2, COLS - 2, a->method == 1 ? "a switches: ig  [attention weights]"
							    : "a switches: [ig]  attention weights");
		else if (pv->vatt)
			ui_put(y++, 2, COLS - 2, a->method == 1 ? "a switches: ig  [attention over visits]"
							    : "a switches: [ig]  attention over visits");
	}
	if (y < 7)
		y = 7;
	if (a->visits_view)
		draw_visits(a, y);
	else if (ps.curve_view && ps.have_pv)
		draw_curve(a, y);
	else if (ps.have_pv && ui_effect_shown(a)) /* ui_effect.c; what-if: the edited values */
		ui_effect_draw(a, y, ps.pv.edited ? ps.pv.v : NULL,
			       ps.pv.net == OPS_NET_FOLD ? ps.pv.fold : -1);
	else if (ps.have_pv)
		draw_factors(a, y);
}
/* A survival model: the patient's S(t) (the curve through the risk shown, ops.h) over the
 * cohort's Kaplan-Meier, and the risk by the horizon the user picked (h). */
static void draw_curve(ui_app *a, int y0)
{
	const ops_patient *pv = &ps.pv;
	if (!pv->m || !pv->m->surv_n) {
		ui_put(y0, 2, COLS - 4, "c: survival curves are for survival models (--model cox, or "
					"--time/--event)");
		return;
	}
	if (!ps.have_km || ps.km_model != a->co.model_id) {
		if (ps.have_km)
			ops_survival_free(&ps.km);
		lm_err err = {0};
		ps.have_km = ops_patient_km(a->db, pv, &ps.km, &err) == 0 && ps.km.G >= 1;
		ps.km_model = a->co.model_id;
		if (!ps.have_km) {
			ui_put(y0, 2, COLS - 4, err.msg[0] ? err.msg : "no Kaplan-Meier curve");
			return;
		}
	}
	const km_curve *k = &ps.km.curve[0];
	double tmax = k->m > 0 ? k->time[k->m - 1] : pv->m->surv_horizon;
	double h = isnan(ps.horizon) ? pv->m->surv_horizon : ps.horizon;
	char t[200];
	char hn[48];
	snprintf(t, sizeof t, "risk by t = %s: %.3f (patient), %.3f (cohort); h: another t",
		 lbl_num(h, 6, hn, sizeof hn), ops_patient_risk_at(pv, h), 1 - km_surv_at(k, h, NULL, NULL));
	ui_put(y0, 2, COLS - 4, t);
	snprintf(t, sizeof t, "S(t) by %s (column '%s'), each curve named at its end", "time",
		 ps.km.time ? ps.km.time : "time");
	ui_put(y0 + 1, 2, COLS - 4, t);
	int ph = LINES - 1 - (y0 + 3) - 1, pw = COLS - 20;
	if (ph < 4 || pw < 20) {
		ui_put(y0 + 2, 2, COLS - 4, "(the window is too small for the curve)");
		return;
	}
	enum { NPT = 200 };
	double pt[NPT], psv[NPT];
	ops_patient_curve(pv, NPT, tmax, pt, psv);
	/* the Kaplan-Meier as its steps: each point's level held until the next time */
	long m = k->m;
	double *kx = xmallocarray((size_t)(2 * m + 2), sizeof *kx);
	double *ky = xmallocarray((size_t)(2 * m + 2), sizeof *ky);
	int nk = 0;
	kx[nk] = 0, ky[nk++] = 1;
	for (long j = 0; j < m; j++) {
		kx[nk] = k->time[j], ky[nk++] = j ? k->surv[j - 1] : 1;
		kx[nk] = k->time[j], ky[nk++] = k->surv[j];
	}
	const double *xs[2] = {pt, kx}, *ys[2] = {psv, ky};
	int ns[2] = {NPT, nk};
	ui_plot_multi(a, y0 + 2, 8, pw, ph, 2, xs, ys, ns, 0, tmax > 0 ? tmax : 1, 0, 1);
	for (int r = 0; r <= 4; r++) { /* the S axis */
		snprintf(t, sizeof t, "%4.2f", 1 - r / 4.0);
		ui_put(y0 + 2 + (ph - 1) * r / 4, 2, 5, t);
	}
	char tn[48];
	lbl_num(tmax, 6, tn, sizeof tn);
	snprintf(t, sizeof t, "0%*s%s", pw - 1 - (int)strlen(tn), "", tn);
	ui_put(y0 + 2 + ph, 8, pw + 4, t);
	/* the curves are told apart by a name at their ends (not by colour) */
	double sp = psv[NPT - 1], sk = km_surv_at(k, tmax, NULL, NULL);
	int yp = y0 + 2 + (int)lround((1 - sp) * (ph - 1)), yk = y0 + 2 + (int)lround((1 - sk) * (ph - 1));
	if (yp == yk)
		yk += yk + 1 < y0 + 2 + ph ? 1 : -1;
	ui_put(yp, 8 + pw + 1, 10, a->ascii ? "* patient" : "patient");
	ui_put(yk, 8 + pw + 1, 10, a->ascii ? "o cohort" : "cohort");
	snprintf(t, sizeof t, "cohort: Kaplan-Meier of %ld patients, %ld events", k->n, k->events);
	ui_put(y0 + 3 + ph, 8, COLS - 10, t);
	free(kx);
	free(ky);
}

static void draw_visits(ui_app *a, int y0)
{
	if (ps.vis.nvisit == 0 || ps.vis.nlab == 0) {
		ui_put(y0, 2, COLS - 4, "no visits for this patient");
		return;
	}
	char t[320];
	/* a sequence model's attributions per visit x lab: a second heat map, aligned with the
	 * sparklines visit for visit (ops_visit_attr_get), and the visit that moved the risk most */
	ops_visit_attr va;
	int have_va = ps.have_pv && ops_visit_attr_get(&ps.pv, &va) == 0;
	/* a: a GRU's attention over visits, a row of its own below the labs */
	int show_att = have_va && va.attn && a->method == 1;
	float amax = 0;
	for (int i = 0; have_va && i < va.nvisit * va.nlab; i++)
		amax = fabsf(va.m[i]) > amax ? fabsf(va.m[i]) : amax;
	if (show_att && va.attn_top >= 0) {
		int g = va.first + va.attn_top;
		snprintf(t, sizeof t, "%d visits; attention (unsigned): most on visit %d (%s %.6g), "
			 "weight %.3f", ps.vis.nvisit, g + 1, ps.vis.time_col[0] ? ps.vis.time_col : "#",
			 g < ps.vis.nvisit ? ps.vis.time[g] : (double)(g + 1),
			 (double)va.attn[va.attn_top]);
	} else if (have_va && va.top >= 0) {
		int g = va.first + va.top;
		snprintf(t, sizeof t, "%d visits; heat vs mean | IG %s+%s-; visit %d (%s %.6g) moved "
			 "risk most: %+.3f", ps.vis.nvisit, a->ascii ? "P" : "░", a->ascii ? "N" : "▁",
			 g + 1, ps.vis.time_col[0] ? ps.vis.time_col : "#",
			 g < ps.vis.nvisit ? ps.vis.time[g] : (double)(g + 1), (double)va.visit[va.top]);
	} else {
		snprintf(t, sizeof t, "%d visits%s%s; heat: %s", ps.vis.nvisit, ps.vis.time_col[0] ? " by " : "",
			 ps.vis.time_col, a->ascii ? "P/+ above, N/- below the cohort mean" : "░▒▓█ above, ▁▃▅▇ below the cohort mean");
	}
	ui_put(y0, 2, COLS - 4, t);
	int plot_h = LINES - 1 - y0 - 2 - ps.vis.nlab - show_att;
	int list_h = ps.vis.nlab;
	if (plot_h < 4) {
		plot_h = 4;
		list_h = LINES - 1 - y0 - 2 - plot_h - show_att;
	}
	if (a->lab >= ps.vis.nlab)
		a->lab = ps.vis.nlab - 1;
	int swmax = have_va ? 16 : 20, sw = ps.vis.nvisit < swmax ? ps.vis.nvisit : swmax;
	int first = a->lab >= list_h ? a->lab - list_h + 1 : 0;
	int nw = COLS >= 110 ? 28 : 16, sx = 2 + nw + 1; /* the labs' labels, then the sparklines */
	for (int i = 0; i < list_h && first + i < ps.vis.nlab; i++) {
		int li = first + i;
		const ops_lab *l = &ps.vis.labs[li];
		int y = y0 + 1 + i;
		if (li == a->lab)
			mvaddch(y, 0, '>');
		ui_put_fit(y, 2, nw, l->name);
		int off = ps.vis.nvisit > sw ? ps.vis.nvisit - sw : 0; /* the latest visits */
		ui_sparkline(a, y, sx, sw, l->v + off, sw);
		for (int v = 0; v < sw; v++) {
			double z = l->sd > 0 ? (l->v[off + v] - l->mean) / (2 * l->sd) : (double)NAN;
			ui_heat_cell(a, y, sx + sw + 2 + v, z);
		}
		int xt = sx + 2 * sw + 4;
		if (have_va) {
			int j = -1;
			for (int q = 0; q < va.nlab; q++)
				if (!strcmp(va.lab[q], l->column))
					j = q;
			for (int v = 0; v < sw; v++) {
				int r = off + v - va.first; /* the model's step of this visit */
				double z = j >= 0 && r >= 0 && r < va.nvisit && amax > 0
						   ? (double)(va.m[(size_t)r * va.nlab + j] / amax) : (double)NAN;
				if (j >= 0 && r >= 0 && r < va.nvisit)
					ui_heat_cell(a, y, xt + v, z);
				else
					mvaddch(y, xt + v, a->ascii ? '.' : ' ');
			}
			xt += sw + 2;
		}
		double last = NAN;
		for (int v = 0; v < ps.vis.nvisit; v++)
			if (!isnan(l->v[v]))
				last = l->v[v];
		char n[48];
		snprintf(t, sizeof t, "last %s", lbl_num(last, 4, n, sizeof n));
		ui_put_fit(y, xt, COLS - xt, t);
	}
	if (show_att) { /* the weights visit for visit, in the sparklines' and heat maps' columns */
		int y = y0 + 1 + list_h, off = ps.vis.nvisit > sw ? ps.vis.nvisit - sw : 0;
		double *w = xmallocarray((size_t)(sw ? sw : 1), sizeof *w);
		float wmax = 0;
		for (int r = 0; r < va.nvisit; r++)
			wmax = va.attn[r] > wmax ? va.attn[r] : wmax;
		ui_put_fit(y, 2, nw, "attention");
		for (int v = 0; v < sw; v++) {
			int r = off + v - va.first; /* the model's step of this visit */
			w[v] = r >= 0 && r < va.nvisit ? (double)va.attn[r] : (double)NAN;
		}
		ui_sparkline(a, y, sx, sw, w, sw);
		for (int v = 0; v < sw; v++) {
			if (!isnan(w[v]) && wmax > 0)
				ui_heat_cell(a, y, sx + sw + 2 + v, w[v] / (double)wmax);
			else
				mvaddch(y, sx + sw + 2 + v, a->ascii ? '.' : ' ');
		}
		int xt = sx + 2 * sw + 4 + (have_va ? sw + 2 : 0);
		snprintf(t, sizeof t, "max %.3f", (double)wmax);
		ui_put_fit(y, xt, COLS - xt, t);
		free(w);
	}
	const ops_lab *l = &ps.vis.labs[a->lab];
	int py = y0 + 1 + list_h + show_att;
	double lo = INFINITY, hi = -INFINITY;
	for (int v = 0; v < ps.vis.nvisit; v++)
		if (!isnan(l->v[v])) {
			if (l->v[v] < lo)
				lo = l->v[v];
			if (l->v[v] > hi)
				hi = l->v[v];
		}
	if (!(hi > lo))
		hi = lo + 1;
	char nlo[48], nhi[48];
	snprintf(t, sizeof t, "%s over %s: %s .. %s", l->name, ps.vis.time_col[0] ? ps.vis.time_col : "visits",
		 lbl_num(lo, 4, nlo, sizeof nlo), lbl_num(hi, 4, nhi, sizeof nhi));
	ui_put_fit(py, 2, COLS - 4, t);
	ui_plot(a, py + 1, 2, COLS - 4, plot_h - 1, ps.vis.time, l->v, ps.vis.nvisit, ps.vis.time[0],
		ps.vis.time[ps.vis.nvisit - 1] > ps.vis.time[0] ? ps.vis.time[ps.vis.nvisit - 1] : ps.vis.time[0] + 1, lo, hi);
	if (have_va)
		ops_visit_attr_free(&va);
}

static void step_patient(ui_app *a, int d)
{
	long pos = ui_view_pos(&a->co, a->patient);
	long n = ui_view_count(&a->co);
	if (pos < 0 || n == 0)
		return;
	pos += d;
	if (pos < 0 || pos >= n) {
		ui_status(a, d > 0 ? "last patient" : "first patient");
		return;
	}
	a->cur = pos; /* the cohort cursor follows, so Esc returns to this patient */
	ui_open_patient(a, ui_view_rowid(&a->co, pos));
}
static void k_next(ui_app *a) { step_patient(a, 1); }
static void k_prev(ui_app *a) { step_patient(a, -1); }
static void k_down(ui_app *a)
{
	if (a->visits_view)
		a->lab++;
	else
		a->pat_scroll++;
}
static void k_up(ui_app *a)
{
	if (a->visits_view) {
		if (a->lab > 0)
			a->lab--;
	} else if (a->pat_scroll > 0) {
		a->pat_scroll--;
	}
}
static void k_method(ui_app *a)
{
	if (ps.have_pv && ps.pv.vatt) { /* a GRU with attention: the weights beside the visits */
		a->method = !a->method;
		if (a->method)
			a->visits_view = 1;
		ui_status(a, a->method ? "attention over visits: the row 'attention' (unsigned weights "
					 "per visit; a again: ig)" : "integrated gradients");
		return;
	}
	if (!ps.have_pv || ps.pv.nfactor == 0 || isnan(ps.pv.f[0].weight)) {
		ui_status(a, "integrated gradients only: attention weights need a transformer");
		return;
	}
	a->method = !a->method;
}
static void k_visits(ui_app *a) { a->visits_view = !a->visits_view; }

static int whatif_set(ui_app *a, const char *col, const char *val)
{
	if (!ps.have_pv) {
		ui_status(a, "what-if: %s", ps.err[0] ? ps.err : "no model");
		return -1;
	}
	lm_err err = {0};
	if (ops_patient_whatif(&ps.pv, col, val, &err)) {
		ui_status(a, "what-if: %s", err.msg);
		return -1;
	}
	return 0;
}

static void edit_done(ui_app *a, const char *text)
{
	char col[128] = "", val[128] = "";
	const char *eq = strchr(text, '=');
	if (eq) {
		snprintf(col, sizeof col, "%.*s", (int)(eq - text), text);
		snprintf(val, sizeof val, "%s", eq + 1);
	} else if (sscanf(text, "%127s %127s", col, val) != 2) {
		ui_status(a, "what-if: expected COLUMN = VALUE, e.g. bili = 1.2");
		return;
	}
	/* trim blanks around both */
	char *c = col, *v = val;
	while (*c == ' ')
		c++;
	while (*v == ' ')
		v++;
	for (size_t n = strlen(c); n > 0 && c[n - 1] == ' ';)
		c[--n] = 0;
	for (size_t n = strlen(v); n > 0 && v[n - 1] == ' ';)
		v[--n] = 0;
	if (!*c || !*v) {
		ui_status(a, "what-if: expected COLUMN = VALUE, e.g. bili = 1.2");
		return;
	}
	a->visits_view = 0;
	a->pat_scroll = 0;
	whatif_set(a, c, v);
}

static void k_edit(ui_app *a)
{
	if (!ps.have_pv) {
		ui_status(a, "what-if: %s", ps.err[0] ? ps.err : "no model");
		return;
	}
	ui_start_prompt(a, "what-if, COLUMN = VALUE: ", "", edit_done);
}

/* Switches the treatment arm: the next of the treatment column's values in the cohort. */
static void k_treat(ui_app *a)
{
	if (!ps.have_pv) {
		ui_status(a, "what-if: %s", ps.err[0] ? ps.err : "no model");
		return;
	}
	lm_err err = {0};
	a->visits_view = 0;
	a->pat_scroll = 0;
	if (ops_patient_switch_arm(a->db, &ps.pv, &err))
		ui_status(a, "%s", err.msg);
}

static void k_reset(ui_app *a)
{
	if (!ps.have_pv || !ps.pv.edited) {
		ui_status(a, "nothing to reset");
		return;
	}
	ops_patient_reset(&ps.pv);
}

static void k_curve(ui_app *a)
{
	ps.curve_view = !ps.curve_view;
	a->visits_view = 0;
}

static void horizon_done(ui_app *a, const char *text)
{
	double h;
	if (parse_double(text, &h) != 0 || !(h >= 0) || !isfinite(h)) {
		ui_status(a, "horizon: '%s' is not a time >= 0", text);
		return;
	}
	ps.horizon = h;
	ps.curve_view = 1;
	a->visits_view = 0;
}

static void k_horizon(ui_app *a)
{
	if (!ps.have_pv || !ps.pv.m || !ps.pv.m->surv_n) {
		ui_status(a, "h: the horizon is for survival models");
		return;
	}
	ui_start_prompt(a, "risk by time: ", "", horizon_done);
}

static const ui_key patient_keys[] = {
	{{']', 'J'}, "]/J", "next patient in the cohort's current order", k_next},
	{{'[', 'K'}, "[/K", "previous patient", k_prev},
	{{'j', KEY_DOWN, UI_KEY_WHEEL_DOWN}, "j/Down", "scroll the factors (visits: next lab)", k_down},
	{{'k', KEY_UP, UI_KEY_WHEEL_UP}, "k/Up", "scroll back (visits: previous lab)", k_up},
	{{'a'}, "a", "integrated gradients or attention weights (transformer; gru with attention: per visit)", k_method},
	{{'v'}, "v", "visits: sparklines, heat map and the selected lab's curve", k_visits},
	{{'e'}, "e", "what-if: set a value (COLUMN = VALUE; . = missing)", k_edit},
	{{'t'}, "t", "what-if: switch the treatment arm", k_treat},
	{{'r'}, "r", "what-if: back to the patient's own values", k_reset},
	{{'c'}, "c", "survival model: its curve over the cohort's KM", k_curve},
	{{'h'}, "h", "survival model: the risk by the time you give", k_horizon},
	{{'b'}, "b", "effect model: the benefit of the next arm (then the risk's reasons)",
	 ui_effect_key_arm},
	{{0}, NULL, NULL, NULL},
};

const ui_screen ui_patient_screen = {"Patient", patient_draw, patient_keys, NULL};

void ui_patient_release(void)
{
	pstate_clear(0);
}
