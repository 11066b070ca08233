/* ui_text.c: text that does not fit — display widths, wrapping at blanks, cutting with an
 * ellipsis — for every screen (a label, a what-if list or a group name never runs off the
 * edge of an 80-column terminal). */
#define _XOPEN_SOURCE_EXTENDED 1
#include <ncurses.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui_impl.h"

static int ascii_only;

void ui_text_set_ascii(int on) { ascii_only = on; }

/* Width of the UTF-8 character at s (its byte length in *k). */
static int char_width(const char *s, size_t len, size_t *k)
{
	mbstate_t ms;
	memset(&ms, 0, sizeof ms);
	wchar_t wc;
	size_t n = mbrtowc(&wc, s, len, &ms);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*k = 1;
		return 1;
	}
	*k = n;
	int w = wcwidth(wc);
	return w < 0 ? 1 : w;
}

int ui_text_width(const char *s)
{
	int w = 0;
	size_t len = strlen(s), k;
	while (len > 0) {
		w += char_width(s, len, &k);
		s += k;
		len -= k;
	}
	return w;
}

/* Bytes of s that fit in w columns. */
static size_t fit_bytes(const char *s, int w)
{
	size_t len = strlen(s), k, used = 0;
	int cols = 0;
	while (used < len) {
		int cw = char_width(s + used, len - used, &k);
		if (cols + cw > w)
			break;
		cols += cw;
		used += k;
	}
	return used;
}

int ui_put_fit(int y, int x, int w, const char *s)
{
	if (w <= 0)
		return 0;
	if (ui_text_width(s) <= w)
		return ui_put(y, x, w, s);
	size_t n = fit_bytes(s, w - 1);
	char buf[512];
	snprintf(buf, sizeof buf, "%.*s%s", (int)n, s, ascii_only ? "~" : "…");
	return ui_put(y, x, w, buf);
}

static int wrap(int draw, int y, int x, int w, int maxlines, const char *s);

int ui_wrap(int y, int x, int w, int maxlines, const char *s) { return wrap(1, y, x, w, maxlines, s); }
int ui_wrap_lines(int w, int maxlines, const char *s) { return wrap(0, 0, 0, w, maxlines, s); }

static int wrap(int draw, int y, int x, int w, int maxlines, const char *s)
{
	int lines = 0;
	while (*s == ' ')
		s++;
	if (w <= 0)
		return 0;
	while (*s && lines < maxlines) {
		if (ui_text_width(s) <= w) {
			if (draw)
				ui_put(y + lines, x, w, s);
			lines++;
			break;
		}
		if (lines == maxlines - 1) {
			if (draw)
				ui_put_fit(y + lines, x, w, s);
			lines++;
			break;
		}
		size_t n = fit_bytes(s, w), cut = n;
		while (cut > 0 && s[cut] != ' ')
			cut--;
		if (cut == 0) /* one word wider than the line: cut it */
			cut = n;
		char buf[512];
		snprintf(buf, sizeof buf, "%.*s", (int)cut, s);
		if (draw)
			ui_put(y + lines, x, w, buf);
		lines++;
		s += cut;
		while (*s == ' ')
			s++;
	}
	return lines;
}
