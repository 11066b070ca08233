/* ui_widgets.c: the drawing primitives shared by the screens: clipped text, bars, signed
 * bars, sparklines, braille curve plots and heat-map cells. Each has an --ascii form. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <math.h>
#include <ncurses.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui_impl.h"

int ui_put(int y, int x, int w, const char *s)
{
	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	wchar_t wb[512];
	int nw = 0, used = 0;
	mbstate_t ms;
	memset(&ms, 0, sizeof ms);
	size_t len = strlen(s);
	while (len > 0 && nw < (int)LM_ARRAY_LEN(wb) - 1) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s, len, &ms);
		if (k == (size_t)-1 || k == (size_t)-2) { /* invalid byte: show '?' */
			wc = L'?';
			k = 1;
			memset(&ms, 0, sizeof ms);
		} else if (k == 0) {
			break;
		}
		int cw = wcwidth(wc);
		if (cw < 0)
			cw = 1, wc = L'?';
		if (used + cw > w)
			break;
		wb[nw++] = wc;
		used += cw;
		s += k;
		len -= k;
	}
	wb[nw] = 0;
	mvaddnwstr(y, x, wb, nw);
	return used;
}

void ui_fill(int y, int x, int w, unsigned int ch)
{
	if (y < 0 || y >= LINES || x >= COLS || w <= 0)
		return;
	if (x + w > COLS)
		w = COLS - x;
	mvhline(y, x, (chtype)ch, w);
}

static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"};

/* Draws a bar of `cells` (fractional) cells growing rightwards from x. */
static void bar_right(const ui_app *a, int y, int x, double cells, char glyph)
{
	int full = (int)cells;
	int part = (int)((cells - full) * 8.0 + 0.5);
	if (part == 8)
		full++, part = 0;
	for (int i = 0; i < full; i++) {
		if (a->ascii)
			mvaddch(y, x + i, (chtype)glyph);
		else
			ui_put(y, x + i, 1, "█");
	}
	if (part > 0) {
		if (a->ascii)
			mvaddch(y, x + full, part >= 4 ? (chtype)glyph : (chtype)'.');
		else
			ui_put(y, x + full, 1, eighths[part]);
	}
}

void ui_bar(const ui_app *a, int y, int x, int w, double v)
{
	if (!(v >= 0))
		return;
	if (v > 1)
		v = 1;
	bar_right(a, y, x, v * w, '#');
}

void ui_signed_bar(const ui_app *a, int y, int x, int w, double v, double vmax)
{
	int half = w / 2;
	int mid = x + half;
	/* the axis: always drawn so that an empty bar still reads as "zero" */
	if (a->ascii)
		mvaddch(y, mid, '|');
	else
		ui_put(y, mid, 1, "│");
	if (!(vmax > 0) || isnan(v) || v == 0)
		return;
	double cells = fabs(v) / vmax * (half - 1);
	if (cells > half - 1)
		cells = half - 1;
	if (v > 0) {
		attron((attr_t)ui_attr_of(a, UI_A_POS));
		bar_right(a, y, mid + 1, cells, '+');
		attroff((attr_t)ui_attr_of(a, UI_A_POS));
	} else {
		/* leftwards: whole cells, a right-half block for the remainder */
		attron((attr_t)ui_attr_of(a, UI_A_NEG));
		int full = (int)cells;
		double rest = cells - full;
		for (int i = 0; i < full; i++) {
			if (a->ascii)
				mvaddch(y, mid - 1 - i, '-');
			else
				ui_put(y, mid - 1 - i, 1, "█");
		}
		if (rest >= 0.25 && full < half - 1) {
			if (a->ascii)
				mvaddch(y, mid - 1 - full, rest >= 0.5 ? '-' : '.');
			else
				ui_put(y, mid - 1 - full, 1, "▐");
		}
		attroff((attr_t)ui_attr_of(a, UI_A_NEG));
	}
}

void ui_sparkline(const ui_app *a, int y, int x, int w, const double *v, int n)
{
	static const char *const ticks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	static const char aticks[] = "_.-=*#";
	double lo = INFINITY, hi = -INFINITY;
	for (int i = 0; i < n; i++)
		if (!isnan(v[i])) {
			if (v[i] < lo)
				lo = v[i];
			if (v[i] > hi)
				hi = v[i];
		}
	if (n > w)
		n = w;
	for (int i = 0; i < n; i++) {
		if (isnan(v[i])) {
			mvaddch(y, x + i, ' ');
			continue;
		}
		double t = hi > lo ? (v[i] - lo) / (hi - lo) : 0.5;
		if (a->ascii)
			mvaddch(y, x + i, (chtype)aticks[(int)(t * 5.0 + 0.5)]);
		else
			ui_put(y, x + i, 1, ticks[(int)(t * 7.0 + 0.5)]);
	}
}

void ui_plot_multi(const ui_app *a, int y, int x, int w, int h, int nser, const double *const *xs,
		   const double *const *ys, const int *ns, double x0, double x1, double y0, double y1)
{
	if (w <= 0 || h <= 0 || !(x1 > x0) || !(y1 > y0))
		return;
	/* each cell holds 2 x 4 braille dots; bits per Unicode's braille pattern order. With
	 * --ascii each series has its own glyph, so curves differ without colour. */
	static const int bit[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
	static const char glyphs[] = "*o+x#%";
	int dw = a->ascii ? w : 2 * w, dh = a->ascii ? h : 4 * h;
	unsigned char *cell = xcalloc((size_t)w * (size_t)h, 1);
	for (int s = 0; s < nser; s++) {
		int px = -1, py = -1;
		for (int i = 0; i < ns[s]; i++) {
			double vx = xs[s][i], vy = ys[s][i];
			if (isnan(vx) || isnan(vy)) {
				px = -1;
				continue;
			}
			int cx = (int)((vx - x0) / (x1 - x0) * (dw - 1) + 0.5);
			int cy = (int)((y1 - vy) / (y1 - y0) * (dh - 1) + 0.5);
			if (cx < 0 || cx >= dw || cy < 0 || cy >= dh) {
				px = -1;
				continue;
			}
			/* join consecutive points with dots so steps and slopes read as curves */
			int steps = px < 0 ? 0 : abs(cx - px) > abs(cy - py) ? abs(cx - px) : abs(cy - py);
			for (int k = 0; k <= steps; k++) {
				int qx = steps ? px + (cx - px) * k / steps : cx;
				int qy = steps ? py + (cy - py) * k / steps : cy;
				if (a->ascii)
					cell[qy * w + qx] = (unsigned char)(s + 1);
				else
					cell[(qy / 4) * w + qx / 2] |= (unsigned char)bit[qy % 4][qx % 2];
			}
			px = cx, py = cy;
		}
	}
	for (int r = 0; r < h; r++)
		for (int c = 0; c < w; c++) {
			unsigned char b = cell[r * w + c];
			if (!b)
				continue;
			if (a->ascii) {
				mvaddch(y + r, x + c, (chtype)glyphs[(b - 1) % (int)(sizeof glyphs - 1)]);
			} else {
				wchar_t wc[2] = {(wchar_t)(0x2800 + b), 0};
				mvaddnwstr(y + r, x + c, wc, 1);
			}
		}
	free(cell);
}

void ui_plot(const ui_app *a, int y, int x, int w, int h, const double *xs, const double *ys,
	     int n, double x0, double x1, double y0, double y1)
{
	ui_plot_multi(a, y, x, w, h, 1, &xs, &ys, &n, x0, x1, y0, y1);
}

void ui_heat_cell(const ui_app *a, int y, int x, double z)
{
	/* above the mean: shades; below: lower blocks, so the sign shows without colour */
	static const char *const shades[] = {" ", "░", "▒", "▓", "█"};
	static const char *const lows[] = {" ", "▁", "▃", "▅", "▇"};
	if (isnan(z)) {
		mvaddch(y, x, a->ascii ? '?' : ' ');
		return;
	}
	double m = fabs(z);
	int k = m > 1 ? 4 : (int)(m * 4.0 + 0.5);
	int at = ui_attr_of(a, z >= 0 ? UI_A_POS : UI_A_NEG);
	attron((attr_t)at);
	if (a->ascii)
		/* sign as glyph, size as case: '+'/'-' small, 'P'/'N' large */
		mvaddch(y, x, k == 0 ? '.' : z >= 0 ? (k >= 3 ? 'P' : '+') : (k >= 3 ? 'N' : '-'));
	else
		ui_put(y, x, 1, z >= 0 ? shades[k] : lows[k]);
	attroff((attr_t)at);
}

void ui_vline(const ui_app *a, int y, int x, int h)
{
	for (int i = 0; i < h; i++) {
		if (a->ascii)
			mvaddch(y + i, x, '|');
		else
			ui_put(y + i, x, 1, "│");
	}
}
