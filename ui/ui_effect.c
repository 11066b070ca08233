/* ui_effect.c: the TUI's treatment-effect views (ui_effect.h). Every number comes from
 * src/ops/ops_effect.c, as lumen explain --arm and lumen.effect show it. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "ui_effect.h"

#include <math.h>
#include <ncurses.h>
#include <stdlib.h>
#include <string.h>

#include "../src/nn/effmodel.h"
#include "../src/ops/ops_effect.h"

static struct estate {
	long model_id;   /* whose effm / inputs are loaded, -1 none */
	int is_effect;
	effm *e;
	ig_inputs in;
	int have_in;
	int arm;         /* the arm shown (1..narm-1), 0: the risk factors instead */
	long rowid;      /* the patient of pv */
	int pv_arm;
	int have_pv;
	ops_effect_patient pv;
	char err[256];
	/* the Audit screen's benefit by group: per arm, for column gcol */
	int audit_on;
	char gcol[128];
	ops_effect_groups *g; /* narm - 1 results, NULL until computed */
	char gerr[256];
} es = {.model_id = -1, .arm = 1};

static void drop_groups(void)
{
	for (int a = 0; es.g && es.e && a < es.e->narm - 1; a++)
		ops_effect_groups_free(&es.g[a]);
	free(es.g);
	es.g = NULL;
	es.gcol[0] = 0;
	es.gerr[0] = 0;
}

static void drop_pv(void)
{
	if (es.have_pv)
		ops_effect_patient_free(&es.pv);
	es.have_pv = 0;
	es.err[0] = 0;
}

void ui_effect_release(void)
{
	drop_pv();
	drop_groups();
	if (es.have_in)
		ig_inputs_free(&es.in);
	effm_free(es.e);
	int on = es.audit_on;
	memset(&es, 0, sizeof es);
	es.model_id = -1;
	es.arm = 1;
	es.audit_on = on; /* the Audit screen's choice outlives a change of model */
}

/* Loads the current model when it changed; 1 when it is an effect model. */
static int ensure_model(ui_app *a)
{
	if (es.model_id == a->co.model_id)
		return es.is_effect;
	ui_effect_release();
	es.model_id = a->co.model_id;
	if (a->co.model_id < 0)
		return 0;
	lm_err err = {0};
	model *m = model_load(a->db, a->co.model_name, &err);
	if (!m || !effm_is_effect(m)) {
		model_free(m);
		return 0;
	}
	es.e = effm_from_model(a->db, m, &err);
	es.is_effect = es.e != NULL;
	if (!es.e)
		snprintf(es.err, sizeof es.err, "%.250s", err.msg);
	return es.is_effect;
}

int ui_effect_shown(ui_app *a)
{
	return ensure_model(a) && es.arm > 0;
}

void ui_effect_key_arm(ui_app *a)
{
	if (!ensure_model(a)) {
		ui_status(a, "b: model %s is not a treatment-effect model", a->co.model_name ?
			  a->co.model_name : "-");
		return;
	}
	es.arm = (es.arm + 1) % es.e->narm;
	if (es.arm)
		ui_status(a, "benefit of %s against %s", es.e->arm[es.arm], es.e->arm[0]);
	else
		ui_status(a, "the reasons for the risk under %s (b: back to the benefit)", es.e->arm[0]);
}

static void ensure_pv(ui_app *a)
{
	if (es.have_pv && es.rowid == a->patient && es.pv_arm == es.arm)
		return;
	drop_pv();
	es.rowid = a->patient;
	es.pv_arm = es.arm;
	lm_err err = {0};
	if (!es.have_in) {
		if (ig_inputs_load(a->db, es.e->base, &es.in, &err)) {
			snprintf(es.err, sizeof es.err, "%.250s", err.msg);
			return;
		}
		es.have_in = 1;
	}
	long row = -1;
	for (long i = 0; i < es.in.f.nrow; i++)
		if (es.in.f.rowid[i] == a->patient)
			row = i;
	if (row < 0) {
		snprintf(es.err, sizeof es.err, "patient %ld is not in the cohort", a->patient);
		return;
	}
	if (ops_effect_patient_load(a->db, es.e, &es.in, row, es.arm, NULL, &es.pv, &err))
		snprintf(es.err, sizeof es.err, "%.250s", err.msg);
	else
		es.have_pv = 1;
}

typedef struct fac {
	double v;
	int j;
} fac;

static int cmp_abs(const void *x, const void *y)
{
	double a = fabs(((const fac *)x)->v), b = fabs(((const fac *)y)->v);
	return (a < b) - (a > b);
}

void ui_effect_draw(ui_app *a, int y0, const struct enc_value *edited, int fold)
{
	if (!ensure_model(a))
		return;
	ensure_pv(a);
	char t[320];
	ops_effect_patient wi; /* what-if: computed for this frame (one patient: cheap) */
	int have_wi = 0;
	if (edited && es.have_pv) {
		lm_err err = {0};
		if (ops_effect_patient_values(a->db, es.e, a->patient, fold, edited, es.arm, NULL, &wi,
					      &err) == 0)
			have_wi = 1;
		else
			snprintf(es.err, sizeof es.err, "%.250s", err.msg);
	}
	if (!es.have_pv || (edited && !have_wi)) {
		attron((attr_t)ui_attr_of(a, UI_A_WARN));
		ui_put(y0, 2, COLS - 2, es.err[0] ? es.err : "no effect view");
		attroff((attr_t)ui_attr_of(a, UI_A_WARN));
		return;
	}
	const ops_effect_patient *p = have_wi ? &wi : &es.pv;
	const effm *e = es.e;
	snprintf(t, sizeof t, "risk under each arm of %s, %s%s (b: next arm)", e->column,
		 have_wi ? "what-if, " : "", p->fold >= 0 ? (have_wi ? "fold networks" : "out of fold")
						  : "final networks");
	attron((attr_t)ui_attr_of(a, UI_A_HEADER));
	ui_put(y0, 2, COLS - 2, t);
	attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
	int y = y0 + 1;
	for (int k = 0; k < p->narm && y < LINES - 3; k++, y++) {
		char sd[32] = "", ef[80];
		if (!isnan(p->p_sd[k]))
			snprintf(sd, sizeof sd, " +/- %.3f", p->p_sd[k]);
		if (k == 0)
			snprintf(ef, sizeof ef, "reference");
		else if (isnan(p->effect_sd[k]))
			snprintf(ef, sizeof ef, "benefit %+.3f", -p->effect[k]);
		else
			snprintf(ef, sizeof ef, "benefit %+.3f +/- %.3f", -p->effect[k], p->effect_sd[k]);
		snprintf(t, sizeof t, "%c %-10.10s %.3f%-10s %s", k == p->arm ? '>' : ' ', e->arm[k],
			 p->p[k], sd, ef);
		ui_put(y, 2, COLS - 16, t);
		ui_bar(a, y, COLS - 13, 12, p->p[k]);
	}
	double sum = p->fx - p->fb;
	char errs[32]; /* no e-notation on a screen */
	if (p->delta < 0.001)
		snprintf(errs, sizeof errs, "err < 0.001");
	else
		snprintf(errs, sizeof errs, "err %.3f", p->delta);
	snprintf(t, sizeof t, "why %s %s: %s %.3f %c reasons %.3f = %.3f, %s",
		 e->arm[p->arm], -p->effect[p->arm] >= 0 ? "helps" : "harms", p->quantity, p->fb,
		 sum < 0 ? '-' : '+', fabs(sum), p->fx, errs);
	if ((int)strlen(t) > COLS - 2) { /* narrow: the completeness error on its own line */
		t[strlen(t) - strlen(errs) - 2] = 0;
		ui_put(y++, 2, COLS - 2, t);
		snprintf(t, sizeof t, "completeness error %s", errs + 4);
	}
	ui_put(y++, 2, COLS - 2, t);
	ui_put(y++, 2, COLS - 2, "factor               value        more benefit | less benefit");
	fac *f = xmallocarray((size_t)(p->ncol ? p->ncol : 1), sizeof *f);
	double vmax = 1e-12;
	for (int j = 0; j < p->ncol; j++) {
		f[j].v = p->attr[j];
		f[j].j = j;
		if (fabs(f[j].v) > vmax)
			vmax = fabs(f[j].v);
	}
	qsort(f, (size_t)p->ncol, sizeof *f, cmp_abs);
	for (int q = 0; q < p->ncol && y < LINES - 2; q++, y++) {
		snprintf(t, sizeof t, "%-20.20s %-12.12s", p->column[f[q].j], p->value[f[q].j]);
		ui_put(y, 2, 34, t);
		ui_signed_bar(a, y, 36, COLS - 48 > 10 ? COLS - 48 : 10, f[q].v, vmax);
		snprintf(t, sizeof t, "%+.3f", f[q].v);
		ui_put(y, COLS - 10, 9, t);
	}
	free(f);
	if (have_wi)
		ops_effect_patient_free(&wi);
}

typedef struct pair {
	double b;
	long r;
} pair;

static int cmp_benefit(const void *x, const void *y)
{
	const pair *a = x, *b = y;
	int na = isnan(a->b), nb = isnan(b->b);
	if (na != nb)
		return na - nb; /* no estimate: last */
	if (!na && a->b != b->b)
		return a->b > b->b ? -1 : 1;
	return (a->r > b->r) - (a->r < b->r);
}

void ui_effect_sort_benefit(ui_app *a)
{
	if (!ensure_model(a)) {
		ui_status(a, "B: model %s is not a treatment-effect model (lumen train --effect)",
			  a->co.model_name ? a->co.model_name : "-");
		return;
	}
	lm_err err = {0};
	effm_stored s;
	if (effm_stored_load(a->db, es.e, &s, &err)) {
		ui_status(a, "%.200s", err.msg);
		return;
	}
	ui_view *c = &a->co;
	long n = c->view ? c->nview : c->n;
	pair *pr = xmallocarray((size_t)(n ? n : 1), sizeof *pr);
	for (long i = 0; i < n; i++) {
		pr[i].r = c->view ? c->view[i] : i + 1;
		long k = effm_stored_find(&s, pr[i].r);
		pr[i].b = k >= 0 ? -s.effect[(size_t)k * (size_t)s.narm + 1] : (double)NAN;
	}
	qsort(pr, (size_t)n, sizeof *pr, cmp_benefit);
	if (!c->view) {
		c->view = xmallocarray((size_t)(n ? n : 1), sizeof *c->view);
		c->nview = n;
	}
	for (long i = 0; i < n; i++)
		c->view[i] = pr[i].r;
	free(pr);
	effm_stored_free(&s);
	c->sort_col = -2;
	c->sort_desc = 1;
	a->cur = a->top = 0;
	ui_status(a, "sorted by the predicted benefit of %s against %s, highest first",
		  es.e->arm[1], es.e->arm[0]);
}

void ui_effect_audit_key(ui_app *a)
{
	if (!ensure_model(a)) {
		ui_status(a, "e: model %s is not a treatment-effect model", a->co.model_name ?
			  a->co.model_name : "-");
		return;
	}
	es.audit_on = !es.audit_on;
}

int ui_effect_audit_shown(ui_app *a)
{
	return es.audit_on && ensure_model(a);
}

void ui_effect_audit_draw(ui_app *a, int y0, const char *spec)
{
	if (!ensure_model(a))
		return;
	char col[128];
	size_t k = strcspn(spec ? spec : "", ",;= ");
	snprintf(col, sizeof col, "%.*s", (int)(k < sizeof col ? k : sizeof col - 1), spec ? spec : "");
	if (!es.g || strcmp(col, es.gcol)) {
		drop_groups();
		snprintf(es.gcol, sizeof es.gcol, "%s", col);
		es.g = xcalloc((size_t)es.e->narm, sizeof *es.g);
		lm_err err = {0};
		for (int b = 1; b < es.e->narm && !es.gerr[0]; b++)
			if (ops_effect_groups_run(a->db, es.e, b, col, &es.g[b - 1], &err))
				snprintf(es.gerr, sizeof es.gerr, "%.250s", err.msg);
	}
	int y = y0;
	if (es.gerr[0]) {
		attron((attr_t)ui_attr_of(a, UI_A_WARN));
		ui_put(y, 2, COLS - 4, es.gerr);
		attroff((attr_t)ui_attr_of(a, UI_A_WARN));
		return;
	}
	char t[256];
	for (int b = 1; b < es.e->narm && y < LINES - 2; b++) {
		const ops_effect_groups *g = &es.g[b - 1];
		snprintf(t, sizeof t, "Benefit of %s against %s by %s (out of fold; e: back)", es.e->arm[b],
			 es.e->arm[0], col);
		attron((attr_t)ui_attr_of(a, UI_A_HEADER));
		ui_put(y++, 0, COLS, t);
		attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
		ui_put(y++, 2, COLS - 2, "group             n  benefit  observed (95% interval)");
		for (int i = 0; i < g->ngroup && y < LINES - 2; i++, y++) {
			const ops_effect_group *x = &g->g[i];
			snprintf(t, sizeof t, "%-14.14s %5ld  %+.3f   %+.3f (%+.3f, %+.3f)", x->label, x->n,
				 -x->predicted, x->observed, x->lo, x->hi);
			ui_put(y, 2, COLS - 2, t);
		}
		y++;
	}
}
