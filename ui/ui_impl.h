/* ui_impl.h: what the screens and widgets of the TUI share (not used outside ui/).
 *
 * Ownership: the app owns the database handle, the cohort view and the screens' state; every
 * screen draws from scratch into stdscr on each frame, so no screen keeps curses windows. */
#ifndef LUMEN_UI_IMPL_H
#define LUMEN_UI_IMPL_H

#include <sqlite3.h>

#include "../src/data/store.h"
#include "ui.h"

/* Semantic attributes (ncdu/htop style): each maps to a colour pair when colours are on and
 * to a plain attribute (bold, reverse, underline) otherwise, so meaning never rests on colour
 * alone: signs, arrows and labels carry it too. */
typedef enum {
	UI_A_NORMAL, UI_A_TITLE, UI_A_HEADER, UI_A_CURSOR, UI_A_POS, UI_A_NEG, UI_A_DIM, UI_A_WARN,
	UI_A_KEY, UI_A_N
} ui_attr;

/* Screens, numbered as the keys 1-6 select them. */
typedef enum {
	UI_COHORT, UI_PATIENT, UI_MODELS, UI_AUDIT, UI_SURVIVAL, UI_REPORTS, UI_NSCREEN
} ui_screen_id;

struct ui_app;

/* Mouse wheel, delivered to screens as keys (outside the ncurses range). */
#define UI_KEY_WHEEL_UP 0x7fff0002
#define UI_KEY_WHEEL_DOWN 0x7fff0003

/* One key binding: the keys (up to 4 codes, 0-terminated), the name shown in help, what it
 * does, and the handler. Screens keep these in static tables. */
typedef struct ui_key {
	int code[4];
	const char *label; /* e.g. "j/Down" */
	const char *help;
	void (*fn)(struct ui_app *a);
} ui_key;

typedef struct ui_screen {
	const char *name;
	void (*draw)(struct ui_app *a);
	const ui_key *keys; /* terminated by an entry with label == NULL */
	/* called with a key the table does not bind (e.g. for numbers); may be NULL */
	int (*other_key)(struct ui_app *a, int key);
} ui_screen;

/* ---- the view of the patients table (ui_data.c), behind the Cohort screen: lazy reading of a possibly huge table ---- */
typedef struct ui_col {
	char *name;   /* column name in patients, or "p" */
	char *label;  /* clinical label or the name */
	col_type type;
	col_role role;
	int width;
	int is_p, is_pred, is_true; /* the model's probability, predicted and true outcome */
	double *all;  /* all values by rowid-1, loaded on demand for sort/filter (NULL until) */
	store_column meta; /* categories for text columns */
} ui_col;

typedef struct ui_row { /* one fetched row for display */
	long rowid;
	char id[64];
	double p, p_sd;
	int y;       /* true outcome 0/1, -1 unknown */
	int fold;
	char **cell; /* ncol strings */
} ui_row;

typedef struct ui_view {
	sqlite3 *db;
	long n;            /* patients */
	char *id_col;      /* the id column name, NULL = rowid */
	long model_id;     /* -1 when no model has predictions */
	char *model_name;
	char **models;     /* names of models with predictions */
	long *model_ids;
	int nmodel, cur_model;
	int ncol;
	ui_col *col;
	long *view;        /* rowids in display order (NULL = all rows in rowid order) */
	long nview;
	int sort_col;      /* -1 none, -2 predicted benefit (ui_effect.c) */
	int sort_desc;
	char filter[300];  /* "" none */
	float *p_all;      /* p by rowid-1 (NAN when no prediction), loaded on demand */
	/* cache of fetched rows */
	ui_row *cache;
	int ncache;
	sqlite3_stmt *row_st;
} ui_view;

int ui_view_open(ui_view *c, sqlite3 *db, const char *model, const char *columns,
		   lm_err *err);
void ui_view_close(ui_view *c);
long ui_view_count(const ui_view *c);
long ui_view_rowid(const ui_view *c, long pos);
/* Position of rowid in the current order, -1 when filtered out. */
long ui_view_pos(const ui_view *c, long rowid);
/* The row at rowid for display (cached; valid until the next fetch of another page). */
const ui_row *ui_view_row(ui_view *c, long rowid);
void ui_view_flush(ui_view *c);
int ui_view_sort(ui_view *c, int col, int desc, lm_err *err);
/* The filter language (ops_filter, as lumen query --where); "" clears. 0 or a status with
 * err ("where:1:COL: ..."). */
int ui_view_filter(ui_view *c, const char *expr, lm_err *err);
int ui_view_set_model(ui_view *c, int k, lm_err *err);
/* Next position at or after `from` (direction dir = +1/-1, wrapping) whose id or any shown
 * cell equals text; -1 when none. */
long ui_view_search(ui_view *c, const char *text, long from, int dir);

/* ---- the app ---- */
typedef struct ui_app {
	const ui_opts *o;
	sqlite3 *db;
	int readonly; /* the file could not be opened for writing: access is not logged */
	char *path;
	ui_view co;
	ui_screen_id scr, prev_scr;
	const ui_screen *screens[UI_NSCREEN]; /* NULL = not available in this build */
	int help;     /* the help pop-up is open */
	int quit;
	int colors;
	int ascii;
	int rows, cols;
	char msg[256];   /* one-line message in the status bar */
	/* prompt */
	int prompting;
	char prompt_label[160];
	char prompt[256];
	size_t prompt_len;
	int prompt_sel;   /* the opening text is selected: the first key replaces it */
	void (*prompt_done)(struct ui_app *a, const char *text);
	/* cohort screen */
	long cur, top;
	int sel_col;
	char search[128];
	/* models screen */
	int model_sel;
	double threshold;
	/* audit screen */
	char audit_spec[200];
	int audit_boot;
	/* survival screen */
	int km_group; /* 0 none, 1..ngroups group columns, then risk tertiles */
	int dep_on, dep_col; /* Models: the dependence view (d) and its input by importance */
	int km_bands;  /* Survival: 95% bands and censoring ticks drawn (b toggles; on at start) */
	/* patient screen */
	long patient;       /* rowid */
	int method;         /* index into the patient's methods */
	int pat_scroll;
	int visits_view;
	int lab;            /* selected lab in the visits view */
	long last_logged;   /* the rowid whose opening was logged last */
} ui_app;

extern const ui_screen ui_cohort_screen;
extern const ui_screen ui_patient_screen;
extern const ui_screen ui_models_screen;
extern const ui_screen ui_survival_screen;
extern const ui_screen ui_audit_screen;
extern const ui_screen ui_reports_screen;
/* Free the screens' cached data (at exit). */
void ui_patient_release(void);
void ui_models_release(void);
void ui_survival_release(void);
void ui_audit_release(void);
void ui_reports_release(void);

/* ui_core.c helpers for screens */
int ui_attr_of(const ui_app *a, ui_attr k);
void ui_status(ui_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ui_start_prompt(ui_app *a, const char *label, const char *init,
		     void (*done)(ui_app *a, const char *text));
void ui_open_patient(ui_app *a, long rowid);
/* Moves the shared decision threshold (Models and Audit screens) by dir steps of 0.05 within
 * [0.05, 0.95], kept on the 0.01 grid. */
void ui_threshold_step(ui_app *a, int dir);
/* Draws text clipped to width w at (y, x) (UTF-8 aware); returns columns used. */
int ui_put(int y, int x, int w, const char *s);
/* ui_text.c: display width of UTF-8 text; text wrapped at blanks into w columns from (y, x),
 * at most maxlines lines (the last cut with "…"), returning the lines used; text cut to w
 * columns with "…" (returns the columns written). */
int ui_text_width(const char *s);
int ui_wrap(int y, int x, int w, int maxlines, const char *s);
int ui_wrap_lines(int w, int maxlines, const char *s); /* the lines ui_wrap would use */
int ui_put_fit(int y, int x, int w, const char *s);
void ui_text_set_ascii(int on);
/* ui_md.c: Markdown laid out for the terminal. ui_md_render wraps md to width columns
 * (ascii: no box-drawing characters) into *out, one styled line each (style[i] is the style
 * of text[i]); returns the line count; free with ui_md_free. ui_md_draw draws one line. */
typedef struct ui_mdline {
	char *text;
	unsigned char *style;
} ui_mdline;
int ui_md_render(const char *md, int width, int ascii, ui_mdline **out);
void ui_md_free(ui_mdline *l, int n);
void ui_md_draw(ui_app *a, int y, int x, int w, const ui_mdline *l); /* "~" instead of "…" (--ascii) */
void ui_fill(int y, int x, int w, unsigned int ch); /* ch: a chtype */

/* ---- the dependence view of the Models screen (ui_dependence.c) ---- */
struct cJSON;
/* Draws rows y..y+h-1: the a->dep_col-th input by the importance JSON of the model. */
void ui_dependence_draw(ui_app *a, int y, int h, const char *mname, const struct cJSON *importance);
void ui_dependence_release(void);

/* ---- widgets (ui_widgets.c) ---- */
/* Signed horizontal bar: zero at the middle of [x, x+w); v in [-vmax, vmax]. */
void ui_signed_bar(const ui_app *a, int y, int x, int w, double v, double vmax);
/* Left-to-right bar for v in [0, 1] with eighth-cell resolution. */
void ui_bar(const ui_app *a, int y, int x, int w, double v);
/* Sparkline of n values (NAN skipped as a gap) in w cells. */
void ui_sparkline(const ui_app *a, int y, int x, int w, const double *v, int n);
/* Curve plot of (xs, ys) in a w x h cell box with braille dots (or '*' with --ascii);
 * ranges [x0,x1] x [y0,y1]. */
void ui_plot(const ui_app *a, int y, int x, int w, int h, const double *xs, const double *ys,
	     int n, double x0, double x1, double y0, double y1);
/* Several curves in one box (dots of all series merged; with --ascii series s uses glyph
 * "*o+x#%"[s]). */
void ui_plot_multi(const ui_app *a, int y, int x, int w, int h, int nser, const double *const *xs,
		   const double *const *ys, const int *ns, double x0, double x1, double y0, double y1);
/* A vertical rule of h cells. */
void ui_vline(const ui_app *a, int y, int x, int h);
/* One heat-map cell for z in [-1, 1] (shade by |z|, sign as + / - glyph in ascii). */
void ui_heat_cell(const ui_app *a, int y, int x, double z);

#endif
