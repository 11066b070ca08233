/* ui_dependence.c: the dependence view of the Models screen (d): one input's stored
 * integrated gradients (y) against its values (x), one dot per explained patient, with the
 * zero line; [ and ] step through the inputs in order of importance. The numbers come from
 * ops_dependence_load; nothing is computed here but the placing of the dots. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <cjson/cJSON.h>
#include <math.h>
#include <ncurses.h>
#include <stdlib.h>
#include <string.h>

#include "../src/ops/ops.h"
#include "ui_impl.h"

static struct dstate {
	char model[128], column[128];
	ops_dependence d;
	int have;
	char err[1100];
} ds;

void ui_dependence_release(void)
{
	if (ds.have)
		ops_dependence_free(&ds.d);
	memset(&ds, 0, sizeof ds);
}

/* The name of the k-th input by importance (wrapping), or NULL; *n gets how many. */
static const char *input_at(const cJSON *importance, int k, int *n)
{
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(importance, "ig"), "columns");
	*n = cJSON_IsArray(cols) ? cJSON_GetArraySize(cols) : 0;
	if (*n == 0)
		return NULL;
	k = ((k % *n) + *n) % *n;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cols, k), "column");
	return cJSON_IsString(c) ? c->valuestring : NULL;
}

void ui_dependence_draw(ui_app *a, int y, int h, const char *mname, const cJSON *importance)
{
	int n = 0;
	const char *col = input_at(importance, a->dep_col, &n);
	attron((attr_t)ui_attr_of(a, UI_A_HEADER));
	ui_fill(y, 0, COLS, ' ');
	if (!col) {
		ui_put(y, 2, COLS - 4, "dependence: no stored explanations (lumen explain FILE --model M)");
		attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
		return;
	}
	if (!ds.have || strcmp(ds.model, mname) || strcmp(ds.column, col)) {
		ui_dependence_release();
		snprintf(ds.model, sizeof ds.model, "%s", mname);
		snprintf(ds.column, sizeof ds.column, "%s", col);
		lm_err e = {0};
		if (ops_dependence_load(a->db, mname, col, &ds.d, &e))
			snprintf(ds.err, sizeof ds.err, "%s", e.msg);
		ds.have = 1;
	}
	char t[256];
	snprintf(t, sizeof t, "%s: %s, attribution (up) by value (across), %ld patients"
		 "  [ ]: %d of %d  d: back", mname, col, ds.d.n, ((a->dep_col % n) + n) % n + 1,
		 n);
	ui_put(y, 1, COLS - 2, t);
	attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
	if (ds.err[0] || ds.d.n == 0) {
		ui_put(y + 1, 2, COLS - 4, ds.err[0] ? ds.err : "no stored attributions");
		return;
	}
	const ops_dependence *d = &ds.d;
	double xlo = (double)INFINITY, xhi = -(double)INFINITY, ylo = 0, yhi = 0;
	for (long i = 0; i < d->n; i++) {
		if (!isnan(d->value[i]))
			xlo = fmin(xlo, d->value[i]), xhi = fmax(xhi, d->value[i]);
		if (!isnan(d->attr[i]))
			ylo = fmin(ylo, d->attr[i]), yhi = fmax(yhi, d->attr[i]);
	}
	if (!isfinite(xlo))
		xlo = 0, xhi = 1;
	if (xhi <= xlo)
		xhi = xlo + 1;
	if (yhi <= ylo)
		yhi = ylo + 1;
	int px = 9, pw = COLS - px - 2, ph = h - 3, top = y + 1;
	if (ph < 3 || pw < 10)
		return;
	/* the zero line first, the dots over it */
	int zr = top + (int)((yhi - 0) / (yhi - ylo) * (ph - 1) + 0.5);
	for (int c = 0; c < pw; c++)
		ui_put(zr, px + c, 1, a->ascii ? "-" : "┄");
	/* dots: 2 x 4 braille dots a cell (one '*' a cell with --ascii), never joined */
	static const int bit[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
	int dw = a->ascii ? pw : 2 * pw, dh = a->ascii ? ph : 4 * ph;
	unsigned char *cell = xcalloc((size_t)pw * (size_t)ph, 1);
	for (long i = 0; i < d->n; i++) {
		if (isnan(d->value[i]) || isnan(d->attr[i]))
			continue;
		int cx = (int)((d->value[i] - xlo) / (xhi - xlo) * (dw - 1) + 0.5);
		int cy = (int)((yhi - d->attr[i]) / (yhi - ylo) * (dh - 1) + 0.5);
		if (a->ascii)
			cell[cy * pw + cx] = 1;
		else
			cell[(cy / 4) * pw + cx / 2] |= (unsigned char)bit[cy % 4][cx % 2];
	}
	for (int r = 0; r < ph; r++)
		for (int c = 0; c < pw; c++) {
			unsigned char b = cell[r * pw + c];
			if (!b)
				continue;
			if (a->ascii) {
				mvaddch(top + r, px + c, '*');
			} else {
				wchar_t wc[2] = {(wchar_t)(0x2800 + b), 0};
				mvaddnwstr(top + r, px + c, wc, 1);
			}
		}
	free(cell);
	ui_vline(a, top, px - 1, ph);
	snprintf(t, sizeof t, "%+.3g", yhi);
	ui_put(top, 0, px - 1, t);
	ui_put(zr, 0, px - 1, "0");
	snprintf(t, sizeof t, "%+.3g", ylo);
	ui_put(top + ph - 1, 0, px - 1, t);
	/* the x axis: the value range, or the categories at their places */
	int ya = top + ph;
	if (d->ncat > 0) {
		for (int k = 0; k < d->ncat; k++) {
			int cx = px + (int)((k - xlo) / (xhi - xlo) * (pw - 1) + 0.5);
			int w = (int)strlen(d->cats[k]);
			cx = cx - w / 2 < px ? px : cx - w / 2 + w > COLS ? COLS - w : cx - w / 2;
			ui_put(ya, cx, w, d->cats[k]);
		}
	} else {
		snprintf(t, sizeof t, "%g", xlo);
		ui_put(ya, px, (int)strlen(t), t);
		snprintf(t, sizeof t, "%g", xhi);
		ui_put(ya, px + pw - (int)strlen(t), (int)strlen(t), t);
	}
	snprintf(t, sizeof t, "%s", col);
	ui_put(ya, px + pw / 2 - (int)strlen(t) / 2, (int)strlen(t), t);
}
