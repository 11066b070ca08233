/* ui_core.c: the event loop, the terminal (or the headless virtual screen), the help pop-up,
 * prompts, resize, signals and the fatal hook. Screens live in ui_view.c and ui_patient.c.
 *
 * Headless mode (`--headless`) renders through ncurses into an in-memory screen: newterm on
 * /dev/null with TERM set and the size from LINES/COLUMNS, keys taken from the key script
 * instead of the terminal, and `--dump` prints stdscr's cells. The drawing code is the same,
 * so the sanitizer run and the benchmarks cover what a user sees. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <ncurses.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "ui_effect.h"
#include "ui_impl.h"

#define MIN_COLS 60
#define MIN_ROWS 16

static SCREEN *term_screen;
static FILE *term_out, *term_in;
static volatile sig_atomic_t curses_on;

/* ---- restoring the terminal on every path ---- */

static void restore_terminal(void)
{
	if (curses_on) {
		curses_on = 0;
		endwin();
	}
}

static void on_signal(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGABRT};
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < LM_ARRAY_LEN(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

static void reset_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGABRT};
	for (size_t i = 0; i < LM_ARRAY_LEN(sigs); i++)
		signal(sigs[i], SIG_DFL);
}

/* ---- attributes ---- */

int ui_attr_of(const ui_app *a, ui_attr k)
{
	/* without colour each role still differs: bold titles, reverse cursor, underlined
	 * headers; positive/negative are told apart by sign and side, not by attribute */
	static const int mono[UI_A_N] = {
		[UI_A_NORMAL] = A_NORMAL, [UI_A_TITLE] = A_BOLD | A_REVERSE,
		[UI_A_HEADER] = A_UNDERLINE | A_BOLD, [UI_A_CURSOR] = A_REVERSE,
		[UI_A_POS] = A_NORMAL, [UI_A_NEG] = A_NORMAL, [UI_A_DIM] = A_DIM,
		[UI_A_WARN] = A_BOLD, [UI_A_KEY] = A_BOLD,
	};
	if (!a->colors)
		return mono[k];
	switch (k) {
	case UI_A_TITLE: return (int)(COLOR_PAIR(1) | A_BOLD);
	case UI_A_HEADER: return (int)(COLOR_PAIR(2) | A_BOLD);
	case UI_A_CURSOR: return (int)(COLOR_PAIR(3));
	case UI_A_POS: return (int)COLOR_PAIR(4);
	case UI_A_NEG: return (int)COLOR_PAIR(5);
	case UI_A_DIM: return A_DIM;
	case UI_A_WARN: return (int)(COLOR_PAIR(6) | A_BOLD);
	case UI_A_KEY: return (int)(COLOR_PAIR(2) | A_BOLD);
	default: return A_NORMAL;
	}
}

static void setup_colors(ui_app *a)
{
	a->colors = 0;
	if (a->o->mono || getenv("NO_COLOR") || !has_colors())
		return;
	start_color();
	use_default_colors();
	init_pair(1, COLOR_WHITE, COLOR_BLUE);
	init_pair(2, COLOR_CYAN, -1);
	init_pair(3, COLOR_BLACK, COLOR_CYAN);
	init_pair(4, COLOR_RED, -1);   /* raises the risk */
	init_pair(5, COLOR_BLUE, -1);  /* lowers it */
	init_pair(6, COLOR_YELLOW, -1);
	a->colors = 1;
}

void ui_status(ui_app *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->msg, sizeof a->msg, fmt, ap);
	va_end(ap);
}

void ui_start_prompt(ui_app *a, const char *label, const char *init,
		     void (*done)(ui_app *a, const char *text))
{
	a->prompting = 1;
	snprintf(a->prompt_label, sizeof a->prompt_label, "%s", label);
	snprintf(a->prompt, sizeof a->prompt, "%s", init ? init : "");
	a->prompt_len = strlen(a->prompt);
	/* a prompt opens empty or with its old text selected: typing replaces it, Enter keeps it */
	a->prompt_sel = a->prompt_len > 0;
	a->prompt_done = done;
}

void ui_open_patient(ui_app *a, long rowid)
{
	if (rowid < 1)
		return;
	a->patient = rowid;
	a->method = 0;
	a->pat_scroll = 0;
	a->lab = 0;
	if (a->scr != UI_PATIENT) {
		a->prev_scr = a->scr;
		a->scr = UI_PATIENT;
	}
	/* who looked at whom: one access_log row per patient opened */
	if (rowid != a->last_logged && !a->readonly) {
		lm_err err = {0};
		if (store_log_access(a->db, "view", rowid, "tui", &err))
			ui_status(a, "access log: %s", err.msg);
		a->last_logged = rowid;
	}
}

/* ---- global keys ---- */

static void key_quit(ui_app *a) { a->quit = 1; }
static void key_help(ui_app *a) { a->help = 1; }

static void go_screen(ui_app *a, ui_screen_id s)
{
	if (!a->screens[s])
		return;
	if (s == UI_PATIENT) {
		if (a->patient < 1)
			ui_open_patient(a, ui_view_rowid(&a->co, a->cur));
		else
			ui_open_patient(a, a->patient);
		return;
	}
	a->prev_scr = a->scr;
	a->scr = s;
}

static void key_back(ui_app *a)
{
	if (a->scr != UI_COHORT)
		go_screen(a, a->scr == UI_PATIENT ? UI_COHORT : a->prev_scr);
}

static void key_tab(ui_app *a)
{
	for (int k = 1; k <= UI_NSCREEN; k++) {
		ui_screen_id s = (ui_screen_id)((a->scr + k) % UI_NSCREEN);
		if (a->screens[s]) {
			go_screen(a, s);
			return;
		}
	}
}

static void key_num(ui_app *a, int k)
{
	if (k >= 0 && k < UI_NSCREEN && a->screens[k])
		go_screen(a, (ui_screen_id)k);
	else
		ui_status(a, "screen %d is not in this build", k + 1);
}
static void key_1(ui_app *a) { key_num(a, 0); }
static void key_2(ui_app *a) { key_num(a, 1); }
static void key_3(ui_app *a) { key_num(a, 2); }
static void key_4(ui_app *a) { key_num(a, 3); }
static void key_5(ui_app *a) { key_num(a, 4); }
static void key_6(ui_app *a) { key_num(a, 5); }

/* Whether a global key applies in this build (screen keys for absent screens do not). */
static int key_available(const ui_app *a, const ui_key *k)
{
	int c = k->code[0];
	return !(c >= '1' && c <= '6') || a->screens[c - '1'];
}

static const ui_key global_keys[] = {
	{{'?', KEY_F(1)}, "?", "this help (any key closes it)", key_help},
	{{'q'}, "q", "quit", key_quit},
	{{27}, "Esc", "back (patient -> cohort)", key_back},
	{{'\t'}, "Tab", "next screen", key_tab},
	{{'1'}, "1", "cohort screen", key_1},
	{{'2'}, "2", "patient screen (the patient under the cursor)", key_2},
	{{'3'}, "3", "models screen", key_3},
	{{'4'}, "4", "audit screen", key_4},
	{{'5'}, "5", "survival screen", key_5},
	{{'6'}, "6", "reports screen", key_6},
	{{0}, NULL, NULL, NULL},
};

static const ui_key *find_key(const ui_key *t, int code)
{
	for (; t && t->label; t++)
		for (int i = 0; i < 4 && t->code[i]; i++)
			if (t->code[i] == code)
				return t;
	return NULL;
}

/* ---- drawing ---- */

static const char *const screen_names[UI_NSCREEN] = {"Cohort", "Patient", "Models",
						     "Audit",  "Survival", "Reports"};

static void draw_tabs(ui_app *a)
{
	int at = ui_attr_of(a, UI_A_TITLE);
	attron((attr_t)at);
	ui_fill(0, 0, COLS, ' ');
	int x = ui_put(0, 0, COLS, " lumen ");
	for (int s = 0; s < UI_NSCREEN; s++) {
		if (!a->screens[s])
			continue;
		char t[32];
		/* brackets mark the current screen so it does not depend on colour */
		snprintf(t, sizeof t, s == (int)a->scr ? "[%d %s]" : " %d %s ", s + 1, screen_names[s]);
		x += ui_put(0, x, COLS - x, t);
	}
	const char *base = strrchr(a->path, '/');
	base = base ? base + 1 : a->path;
	int bl = (int)strlen(base);
	if (x + bl + 2 < COLS)
		ui_put(0, COLS - bl - 1, bl, base);
	attroff((attr_t)at);
}

static void draw_status(ui_app *a)
{
	int y = LINES - 1;
	ui_fill(y, 0, COLS, ' ');
	if (a->prompting) {
		int x = ui_put(y, 0, COLS, a->prompt_label);
		/* text wider than the room left scrolls: its end (where the cursor is) stays in
		 * view, behind a '<' */
		const char *t = a->prompt;
		int room = COLS - x - 1;
		while (ui_text_width(t) > room && *t) {
			t++;
			while (((unsigned char)*t & 0xc0) == 0x80)
				t++;
			if (ui_text_width(t) <= room - 1) {
				x += ui_put(y, x, 1, "<");
				break;
			}
		}
		if (a->prompt_sel)
			attron((attr_t)A_REVERSE);
		x += ui_put(y, x, COLS - x, t);
		if (a->prompt_sel)
			attroff((attr_t)A_REVERSE);
		move(y, x < COLS ? x : COLS - 1);
		return;
	}
	if (a->msg[0]) {
		/* a message wider than the line takes the line above too, wrapped, not cut */
		attron((attr_t)ui_attr_of(a, UI_A_WARN));
		if (ui_text_width(a->msg) > COLS && LINES > 2) {
			ui_fill(y - 1, 0, COLS, ' ');
			ui_wrap(y - 1, 0, COLS, 2, a->msg);
		} else {
			ui_put(y, 0, COLS, a->msg);
		}
		attroff((attr_t)ui_attr_of(a, UI_A_WARN));
		return;
	}
	attron((attr_t)ui_attr_of(a, UI_A_DIM));
	static const char *const hints[UI_NSCREEN] = {
		"?:help  Enter:open  s:sort  /:search  f:filter  m:model  q:quit",
		"?:help  Esc:back  [ ]:prev/next  a:method  v:visits  e:what-if  q:quit",
		"?:help  h/l:model  +/-:threshold  Enter:use  t:train  x:explain  q:quit",
		"?:help  g:grouping  b:bootstrap  w:why  +/-:threshold  Tab:next  q:quit",
		"?:help  g:grouping  Tab:next  q:quit",
		"?:help  Enter:run  j/k:move  Esc:back  q:quit",
	};
	ui_put(y, 0, COLS, hints[a->scr]);
	attroff((attr_t)ui_attr_of(a, UI_A_DIM));
}

static void draw_help(ui_app *a)
{
	const ui_screen *s = a->screens[a->scr];
	int n = 0;
	for (const ui_key *k = s->keys; k && k->label; k++)
		n++;
	for (const ui_key *k = global_keys; k->label; k++)
		n += key_available(a, k);
	int h = n + 2, w = COLS - 8 < 72 ? COLS - 8 : 72;
	if (h > LINES - 2)
		h = LINES - 2;
	int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
	for (int y = y0; y < y0 + h; y++)
		ui_fill(y, x0, w, ' ');
	attron((attr_t)ui_attr_of(a, UI_A_HEADER));
	mvaddch(y0, x0, '+');
	mvhline(y0, x0 + 1, '-', w - 2);
	mvaddch(y0, x0 + w - 1, '+');
	mvaddch(y0 + h - 1, x0, '+');
	mvhline(y0 + h - 1, x0 + 1, '-', w - 2);
	mvaddch(y0 + h - 1, x0 + w - 1, '+');
	mvvline(y0 + 1, x0, '|', h - 2);
	mvvline(y0 + 1, x0 + w - 1, '|', h - 2);
	char title[64];
	snprintf(title, sizeof title, " Keys: %s screen ", s->name);
	ui_put(y0, x0 + 2, w - 4, title);
	attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
	int y = y0 + 1;
	for (int pass = 0; pass < 2; pass++)
		for (const ui_key *k = pass ? global_keys : s->keys; k && k->label; k++) {
			if (y >= y0 + h - 1)
				break;
			if (pass && !key_available(a, k))
				continue;
			attron((attr_t)ui_attr_of(a, UI_A_KEY));
			ui_put(y, x0 + 2, 12, k->label);
			attroff((attr_t)ui_attr_of(a, UI_A_KEY));
			ui_put(y, x0 + 15, w - 17, k->help);
			y++;
		}
}

static void draw(ui_app *a)
{
	erase();
	if (LINES < MIN_ROWS || COLS < MIN_COLS) {
		char t[96];
		snprintf(t, sizeof t, "terminal too small: %dx%d, lumen needs %dx%d", COLS, LINES,
			 MIN_COLS, MIN_ROWS);
		ui_put(LINES / 2, 0, COLS, t);
		wnoutrefresh(stdscr);
		doupdate();
		return;
	}
	curs_set(a->prompting ? 1 : 0);
	draw_tabs(a);
	a->screens[a->scr]->draw(a);
	if (a->help)
		draw_help(a); /* the pop-up over its parent, drawn just before */
	draw_status(a);
	wnoutrefresh(stdscr);
	doupdate();
}

/* ---- keys ---- */

static void prompt_key(ui_app *a, int key)
{
	if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		a->prompting = 0;
		char text[256];
		snprintf(text, sizeof text, "%s", a->prompt);
		if (a->prompt_done)
			a->prompt_done(a, text);
	} else if (key == 27) {
		a->prompting = 0;
	} else if (key == 21 || (a->prompt_sel && (key == KEY_BACKSPACE || key == 127 || key == 8))) {
		/* Ctrl-U (or Backspace on the selected text): clear the line */
		a->prompt_len = 0;
		a->prompt[0] = 0;
	} else if (key == 23) { /* Ctrl-W: the word before the cursor, and the blanks after it */
		while (a->prompt_len > 0 && a->prompt[a->prompt_len - 1] == ' ')
			a->prompt_len--;
		while (a->prompt_len > 0 && a->prompt[a->prompt_len - 1] != ' ')
			a->prompt_len--;
		a->prompt[a->prompt_len] = 0;
	} else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
		/* one character, not one byte, of UTF-8 */
		while (a->prompt_len > 0 && ((unsigned char)a->prompt[a->prompt_len - 1] & 0xc0) == 0x80)
			a->prompt_len--;
		if (a->prompt_len > 0)
			a->prompt_len--;
		a->prompt[a->prompt_len] = 0;
	} else if (key >= 32 && key < 256 && a->prompt_len < sizeof a->prompt - 1) {
		if (a->prompt_sel)
			a->prompt_len = 0;
		a->prompt[a->prompt_len++] = (char)key;
		a->prompt[a->prompt_len] = 0;
	}
	if (key != '\n' && key != '\r' && key != KEY_ENTER)
		a->prompt_sel = 0;
}

static void handle_key(ui_app *a, int key)
{
	if (key == KEY_RESIZE)
		return; /* the next frame is drawn at the new LINES x COLS */
	if (a->prompting) {
		prompt_key(a, key);
		return;
	}
	if (a->help) {
		a->help = 0;
		return;
	}
	a->msg[0] = 0;
	if (LINES < MIN_ROWS || COLS < MIN_COLS) {
		if (key == 'q')
			a->quit = 1;
		return;
	}
	const ui_screen *s = a->screens[a->scr];
	const ui_key *k = find_key(s->keys, key);
	if (k) {
		k->fn(a);
		return;
	}
	if (s->other_key && s->other_key(a, key))
		return;
	if ((k = find_key(global_keys, key)))
		k->fn(a);
}

static int read_key(void)
{
	int key = getch();
	if (key == KEY_MOUSE) {
		MEVENT ev;
		if (getmouse(&ev) == OK) {
			if (ev.bstate & BUTTON4_PRESSED)
				return UI_KEY_WHEEL_UP;
#ifdef BUTTON5_PRESSED
			if (ev.bstate & BUTTON5_PRESSED)
				return UI_KEY_WHEEL_DOWN;
#endif
		}
		return -1;
	}
	return key;
}

int ui_keys_parse(const char *s, int **keys, int **sizes, lm_err *err)
{
	static const struct { const char *name; int code; } names[] = {
		{"down", KEY_DOWN}, {"up", KEY_UP}, {"left", KEY_LEFT}, {"right", KEY_RIGHT},
		{"pgdn", KEY_NPAGE}, {"pgup", KEY_PPAGE}, {"home", KEY_HOME}, {"end", KEY_END},
		{"enter", '\n'}, {"esc", 27}, {"tab", '\t'}, {"bs", KEY_BACKSPACE},
		{"wheelup", UI_KEY_WHEEL_UP}, {"wheeldown", UI_KEY_WHEEL_DOWN},
		{"C-u", 21}, {"C-w", 23},
	};
	size_t len = strlen(s);
	int *k = xmallocarray(len + 1, sizeof *k);
	int *z = xcalloc(2 * (len + 1), sizeof *z);
	int n = 0;
	for (size_t i = 0; i < len;) {
		if (s[i] == '\\' && i + 1 < len) {
			char c = s[i + 1];
			k[n++] = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'e' ? 27 : c;
			i += 2;
		} else if (s[i] == '<' && strchr(s + i, '>')) {
			const char *end = strchr(s + i, '>');
			size_t nl = (size_t)(end - (s + i + 1));
			char name[32];
			if (nl >= sizeof name)
				nl = sizeof name - 1;
			memcpy(name, s + i + 1, nl);
			name[nl] = 0;
			int code = -1, w = 0, h = 0;
			for (size_t j = 0; j < LM_ARRAY_LEN(names); j++)
				if (!strcmp(name, names[j].name))
					code = names[j].code;
			if (code < 0 && sscanf(name, "resize:%dx%d", &w, &h) == 2 && w > 0 && h > 0) {
				code = UI_KEY_RESIZE_TO;
				z[2 * n] = w, z[2 * n + 1] = h;
			}
			if (code < 0 && nl == 1) /* "<" followed by one char and ">": literal */
				code = -1;
			if (code < 0) {
				free(k);
				free(z);
				lm_seterr(err, EX_USAGE, "--keys: unknown key <%s>", name);
				return -1;
			}
			k[n++] = code;
			i = (size_t)(end - s) + 1;
		} else {
			k[n++] = (unsigned char)s[i++];
		}
	}
	*keys = k;
	*sizes = z;
	return n;
}

/* Prints stdscr as UTF-8 text, one line per row, trailing blanks trimmed. */
static void dump_screen(FILE *f)
{
	for (int y = 0; y < LINES; y++) {
		lm_buf line = {0};
		for (int x = 0; x < COLS; x++) {
			cchar_t cc;
			wchar_t wc[CCHARW_MAX + 1];
			attr_t at;
			short pair;
			if (mvin_wch(y, x, &cc) == ERR || getcchar(&cc, wc, &at, &pair, NULL) == ERR) {
				buf_puts(&line, " ");
				continue;
			}
			char mb[MB_LEN_MAX * (CCHARW_MAX + 1) + 1];
			size_t m = 0;
			mbstate_t ms;
			memset(&ms, 0, sizeof ms);
			for (int i = 0; wc[i] && i < CCHARW_MAX; i++) {
				size_t r = wcrtomb(mb + m, wc[i], &ms);
				if (r != (size_t)-1)
					m += r;
			}
			if (m == 0)
				mb[m++] = ' ';
			buf_add(&line, mb, m);
		}
		size_t n = line.len;
		while (n > 0 && line.data[n - 1] == ' ')
			n--;
		fprintf(f, "%.*s\n", (int)n, line.data ? line.data : "");
		buf_free(&line);
	}
}

static int start_terminal(ui_app *a, lm_err *err)
{
	const ui_opts *o = a->o;
	if (o->headless) {
		char w[16], h[16];
		snprintf(w, sizeof w, "%d", o->width);
		snprintf(h, sizeof h, "%d", o->height);
		setenv("COLUMNS", w, 1);
		setenv("LINES", h, 1);
		const char *t = getenv("TERM");
		if (!t || !*t || !strcmp(t, "dumb"))
			setenv("TERM", "xterm-256color", 1);
		term_out = fopen("/dev/null", "w");
		term_in = fopen("/dev/null", "r");
		if (!term_out || !term_in)
			return lm_seterr(err, EX_OSERR, "cannot open /dev/null");
		term_screen = newterm(NULL, term_out, term_in);
		if (!term_screen)
			return lm_seterr(err, EX_SOFTWARE, "cannot start a virtual screen for TERM=%s",
					 getenv("TERM"));
		set_term(term_screen);
	} else {
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
			return lm_seterr(err, EX_USAGE,
					 "not a terminal (use --headless to render without one)");
		term_screen = newterm(NULL, stdout, stdin);
		if (!term_screen)
			return lm_seterr(err, EX_SOFTWARE, "cannot start the terminal (TERM=%s)",
					 getenv("TERM") ? getenv("TERM") : "");
		set_term(term_screen);
	}
	curses_on = 1;
	lm_set_fatal_hook(restore_terminal);
	install_signals();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	if (!o->headless)
		mousemask(BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
				  | BUTTON5_PRESSED
#endif
			  ,
			  NULL);
	setup_colors(a);
	return 0;
}

static void stop_terminal(void)
{
	restore_terminal();
	if (term_screen) {
		delscreen(term_screen);
		term_screen = NULL;
	}
	if (term_out)
		fclose(term_out);
	if (term_in)
		fclose(term_in);
	term_out = term_in = NULL;
	lm_set_fatal_hook(NULL);
	reset_signals();
}

static int utf8_locale(void)
{
	const char *cs = nl_langinfo(CODESET);
	return cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
}

int ui_run(const ui_opts *o, lm_err *err)
{
	double t0 = lm_seconds();
	ui_app a;
	memset(&a, 0, sizeof a);
	a.o = o;
	a.path = xstrdup(o->path);
	a.sel_col = 0;
	a.km_bands = 1;
	setlocale(LC_ALL, "");
	if (!utf8_locale() && o->headless)
		setlocale(LC_CTYPE, "C.UTF-8");
	a.ascii = o->ascii || !utf8_locale();
	ui_text_set_ascii(a.ascii);

	int *keys = NULL, *sizes = NULL, nkeys = 0;
	if (o->headless && (nkeys = ui_keys_parse(o->keys ? o->keys : "", &keys, &sizes, err)) < 0) {
		free(a.path);
		return err->status;
	}
	a.db = store_open(o->path, 0, err);
	if (!a.db) {
		/* a read-only copy can still be browsed; the status bar says access is not logged */
		lm_err e2 = {0};
		if (err->status == EX_IOERR && (a.db = store_open(o->path, 1, &e2)))
			a.readonly = 1;
		else {
			free(keys), free(sizes), free(a.path);
			return err->status;
		}
	}
	int s = ui_view_open(&a.co, a.db, o->model, o->columns, err);
	if (s) {
		ui_view_close(&a.co);
		store_close(a.db);
		free(keys), free(sizes), free(a.path);
		return s;
	}
	a.screens[UI_COHORT] = &ui_cohort_screen;
	a.screens[UI_PATIENT] = &ui_patient_screen;
	a.screens[UI_MODELS] = &ui_models_screen;
	a.screens[UI_SURVIVAL] = &ui_survival_screen;
	a.screens[UI_AUDIT] = &ui_audit_screen;
	a.screens[UI_REPORTS] = &ui_reports_screen;
	a.scr = UI_COHORT;
	if (a.readonly)
		ui_status(&a, "read-only file: patient views are not logged");

	if ((s = start_terminal(&a, err))) {
		stop_terminal();
		ui_view_close(&a.co);
		store_close(a.db);
		free(keys), free(sizes), free(a.path);
		return s;
	}
	long frames = 0, limit = o->frames > 0 ? o->frames : nkeys + 1;
	int ki = 0, last_key = 0;
	for (;;) {
		double f0 = lm_seconds();
		draw(&a);
		frames++;
		if (o->headless && o->dump == 2) { /* --dump-all: every frame, each ending in \f */
			dump_screen(stdout);
			fputs("\f\n", stdout);
		}
		if (o->stats)
			fprintf(stderr, "frame %ld key %d %.3f ms%s\n", frames, last_key,
				(lm_seconds() - f0) * 1e3, frames == 1 ? " (first)" : "");
		if (frames == 1 && o->stats)
			fprintf(stderr, "open to first frame %.3f ms\n", (lm_seconds() - t0) * 1e3);
		if (a.quit)
			break;
		int key;
		if (o->headless) {
			if (frames >= limit || ki >= nkeys)
				break;
			key = keys[ki];
			if (key == UI_KEY_RESIZE_TO) {
				resizeterm(sizes[2 * ki + 1], sizes[2 * ki]);
				key = KEY_RESIZE;
			}
			ki++;
		} else {
			key = read_key();
			if (key < 0)
				continue;
		}
		last_key = key;
		double k0 = lm_seconds();
		handle_key(&a, key);
		if (o->stats)
			fprintf(stderr, "key %d handled in %.3f ms\n", key, (lm_seconds() - k0) * 1e3);
	}
	if (o->headless && o->dump == 1)
		dump_screen(stdout);
	stop_terminal();
	ui_patient_release();
	ui_effect_release();
	ui_models_release();
	ui_survival_release();
	ui_dependence_release();
	ui_audit_release();
	ui_reports_release();
	ui_view_close(&a.co);
	store_close(a.db);
	free(keys);
	free(sizes);
	free(a.path);
	return 0;
}

void ui_threshold_step(ui_app *a, int dir)
{
	double t = round((a->threshold + 0.05 * dir) * 100) / 100;
	a->threshold = t > 0.95 ? 0.95 : t < 0.05 ? 0.05 : t;
}
