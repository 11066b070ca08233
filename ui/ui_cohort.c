/* ui_view.c: the Cohort screen: one row per patient (id, the model's probability with a
 * bar, predicted and true outcome, groups and key columns), sorted, searched and filtered
 * through ui_data.c. Enter opens the patient. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <math.h>
#include <ncurses.h>
#include <stdlib.h>
#include <string.h>

#include "ui_effect.h"
#include "../src/data/labels.h"
#include "../src/ops/ops.h"
#include "ui_impl.h"

#define ID_W 8

static int body_rows(void) { return LINES - 4; } /* tabs, header line, column titles, status */

static void clamp(ui_app *a)
{
	long n = ui_view_count(&a->co);
	if (a->cur >= n)
		a->cur = n - 1;
	if (a->cur < 0)
		a->cur = 0;
	int h = body_rows();
	if (a->top > a->cur)
		a->top = a->cur;
	if (a->cur >= a->top + h)
		a->top = a->cur - h + 1;
	if (a->top < 0)
		a->top = 0;
}

static void cohort_draw(ui_app *a)
{
	ui_view *c = &a->co;
	clamp(a);
	char line[768];
	long n = ui_view_count(c);
	/* what p is the risk of, in words (ops_model_outcome), looked up once per model */
	static char outcome[200];
	static long outcome_for = -1;
	if (c->nmodel && outcome_for != c->model_id) {
		char o[160];
		snprintf(outcome, sizeof outcome, " | p: risk of %s",
			 ops_model_outcome(a->db, c->model_name, o, sizeof o));
		outcome_for = c->model_id;
	}
	snprintf(line, sizeof line, "model %s%s | %ld/%ld patients | sort %s%s | filter %s",
		 c->nmodel ? c->model_name : "(none yet)", c->nmodel ? outcome : "", n, c->n,
		 c->sort_col >= 0 ? c->col[c->sort_col].label : c->sort_col == -2 ? "benefit" : "file order",
		 c->sort_col >= 0 ? (c->sort_desc ? " desc" : " asc") : c->sort_col == -2 ? " desc" : "",
		 c->filter[0] ? c->filter : "none");
	ui_put_fit(1, 0, COLS, line);

	/* column titles; the selected column (s sorts by it) is shown in brackets */
	int hy = 2;
	attron((attr_t)ui_attr_of(a, UI_A_HEADER));
	ui_fill(hy, 0, COLS, ' ');
	ui_put(hy, 2, ID_W, c->id_col ? c->id_col : "row");
	int x = 2 + ID_W + 1;
	int last = -1;
	for (int j = 0; j < c->ncol; j++) {
		ui_col *k = &c->col[j];
		if (x + k->width > COLS)
			break;
		char t[64];
		const char *arrow = "";
		if (j == c->sort_col)
			arrow = a->ascii ? (c->sort_desc ? "v" : "^") : (c->sort_desc ? "▼" : "▲");
		snprintf(t, sizeof t, j == a->sel_col ? "[%s%s]" : "%s%s", k->label, arrow);
		ui_put_fit(hy, x, k->width + (j == a->sel_col ? 2 : 0), t);
		x += k->width + 1;
		last = j;
	}
	attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
	if (a->sel_col > last && last >= 0)
		a->sel_col = last;

	int h = body_rows();
	for (int i = 0; i < h; i++) {
		long pos = a->top + i;
		if (pos >= n)
			break;
		long rowid = ui_view_rowid(c, pos);
		const ui_row *r = ui_view_row(c, rowid);
		int y = hy + 1 + i;
		int cur = pos == a->cur;
		if (cur) {
			attron((attr_t)ui_attr_of(a, UI_A_CURSOR));
			ui_fill(y, 0, COLS, ' ');
			mvaddch(y, 0, '>');
		}
		ui_put(y, 2, ID_W, r->id);
		x = 2 + ID_W + 1;
		for (int j = 0; j <= last; j++) {
			ui_col *k = &c->col[j];
			char t[64];
			if (k->is_p) {
				if (isnan(r->p)) {
					ui_put(y, x, k->width, "  .");
				} else {
					snprintf(t, sizeof t, "%.3f", r->p);
					ui_put(y, x, 5, t);
					ui_bar(a, y, x + 6, k->width - 6, r->p);
				}
			} else if (k->is_pred) {
				ui_put(y, x, k->width, isnan(r->p) ? "." : r->p >= 0.5 ? "yes" : "no");
			} else if (k->is_true) {
				ui_put(y, x, k->width, r->y < 0 ? "." : r->y ? "yes" : "no");
			} else {
				const char *v = r->cell[j];
				if (!*v)
					v = ".";
				/* numbers right-aligned, text left */
				int vl = (int)strlen(v);
				int words = k->type == COL_TYPE_TEXT || (k->meta.name && lbl_is_category(&k->meta));
				int rx = words || vl >= k->width ? x : x + k->width - vl;
				ui_put_fit(y, rx, k->width, v);
			}
			x += k->width + 1;
		}
		if (cur)
			attroff((attr_t)ui_attr_of(a, UI_A_CURSOR));
	}
	if (n == 0)
		ui_put(hy + 2, 2, COLS - 4, c->filter[0] ? "no patient matches the filter (f, then "
							   "an empty line, clears it)"
							 : "the workbench has no patients");
}

static void move_by(ui_app *a, long d)
{
	a->cur += d;
	clamp(a);
}
static void k_down(ui_app *a) { move_by(a, 1); }
static void k_up(ui_app *a) { move_by(a, -1); }
static void k_pgdn(ui_app *a)
{
	move_by(a, body_rows());
	a->top = a->cur;
	clamp(a);
}
static void k_pgup(ui_app *a) { move_by(a, -body_rows()); }
static void k_home(ui_app *a) { a->cur = 0, a->top = 0; }
static void k_end(ui_app *a) { a->cur = ui_view_count(&a->co) - 1, clamp(a); }
static void k_wheel_down(ui_app *a) { move_by(a, 3); }
static void k_wheel_up(ui_app *a) { move_by(a, -3); }
static void k_open(ui_app *a)
{
	if (ui_view_count(&a->co) > 0)
		ui_open_patient(a, ui_view_rowid(&a->co, a->cur));
}
static void k_left(ui_app *a)
{
	if (a->sel_col > 0)
		a->sel_col--;
}
static void k_right(ui_app *a)
{
	if (a->sel_col < a->co.ncol - 1)
		a->sel_col++;
}

static void sort_by(ui_app *a, int col, int desc)
{
	lm_err err = {0};
	if (ui_view_sort(&a->co, col, desc, &err)) {
		ui_status(a, "sort: %s", err.msg);
		return;
	}
	/* a new order starts at its top, as a clinician sorting by risk expects */
	a->cur = 0, a->top = 0;
}

static void k_sort(ui_app *a)
{
	if (a->co.ncol == 0)
		return;
	int desc = a->co.sort_col == a->sel_col ? !a->co.sort_desc : a->co.col[a->sel_col].is_p;
	sort_by(a, a->sel_col, desc);
}

static void k_sort_p(ui_app *a)
{
	for (int j = 0; j < a->co.ncol; j++)
		if (a->co.col[j].is_p) {
			a->sel_col = j;
			sort_by(a, j, a->co.sort_col == j ? !a->co.sort_desc : 1);
			return;
		}
	ui_status(a, "no model with predictions in this file");
}

static void do_search(ui_app *a, long from, int dir)
{
	if (!a->search[0])
		return;
	long p = ui_view_search(&a->co, a->search, from, dir);
	if (p < 0) {
		ui_status(a, "not found: %s", a->search);
		return;
	}
	a->cur = p;
	clamp(a);
}

static void search_done(ui_app *a, const char *text)
{
	snprintf(a->search, sizeof a->search, "%s", text);
	do_search(a, a->cur, 1);
}
static void k_search(ui_app *a) { ui_start_prompt(a, "search id or value: ", "", search_done); }
static void k_next(ui_app *a) { do_search(a, a->cur + 1, 1); }
static void k_prev(ui_app *a) { do_search(a, a->cur - 1, -1); }

static void filter_done(ui_app *a, const char *text)
{
	lm_err err = {0};
	if (ui_view_filter(&a->co, text, &err))
		ui_status(a, "%s", err.msg);
	a->cur = 0, a->top = 0;
}
static void k_filter(ui_app *a) { ui_start_prompt(a, "filter (column op value): ", a->co.filter, filter_done); }

static void k_model(ui_app *a)
{
	ui_view *c = &a->co;
	if (c->nmodel < 2) {
		ui_status(a, c->nmodel ? "only one model has predictions" : "no model has predictions");
		return;
	}
	lm_err err = {0};
	ui_view_set_model(c, (c->cur_model + 1) % c->nmodel, &err);
	if (c->sort_col == -2) /* the benefit order was the other model's */
		c->sort_col = -1;
	if (c->sort_col >= 0 && (c->col[c->sort_col].is_p || c->col[c->sort_col].is_pred ||
				 c->col[c->sort_col].is_true))
		sort_by(a, c->sort_col, c->sort_desc);
	ui_status(a, "model %s", c->model_name);
}

static const ui_key cohort_keys[] = {
	{{'j', KEY_DOWN}, "j/Down", "next patient", k_down},
	{{'k', KEY_UP}, "k/Up", "previous patient", k_up},
	{{KEY_NPAGE, ' '}, "PgDn/Space", "next page", k_pgdn},
	{{KEY_PPAGE}, "PgUp", "previous page", k_pgup},
	{{KEY_HOME, 'g'}, "Home/g", "first patient", k_home},
	{{KEY_END, 'G'}, "End/G", "last patient", k_end},
	{{UI_KEY_WHEEL_DOWN}, "wheel down", "scroll down three rows", k_wheel_down},
	{{UI_KEY_WHEEL_UP}, "wheel up", "scroll up three rows", k_wheel_up},
	{{'\n', '\r', KEY_ENTER}, "Enter", "open the patient", k_open},
	{{'h', KEY_LEFT}, "h/Left", "select the column to the left", k_left},
	{{'l', KEY_RIGHT}, "l/Right", "select the column to the right", k_right},
	{{'s'}, "s", "sort by the selected column (again: reverse)", k_sort},
	{{'P'}, "P", "sort by predicted probability, highest first", k_sort_p},
	{{'B'}, "B", "effect model: sort by predicted benefit, highest first", ui_effect_sort_benefit},
	{{'/'}, "/", "search an id or a value", k_search},
	{{'n'}, "n", "next match", k_next},
	{{'N'}, "N", "previous match", k_prev},
	{{'f'}, "f", "filter: COLUMN OP VALUE (< <= > >= == !=), empty clears", k_filter},
	{{'m'}, "m", "switch to the next model", k_model},
	{{0}, NULL, NULL, NULL},
};

const ui_screen ui_cohort_screen = {"Cohort", cohort_draw, cohort_keys, NULL};
