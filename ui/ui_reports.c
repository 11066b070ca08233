/* ui_reports.c: the Reports screen: the Lua reports that ship (lua/reports) and the user's
 * own (*.lua in the workbench file's directory), run through the sandboxed Lua host exactly
 * as `lumen report` runs them, the Markdown rendering read in a pager. Nothing is stored. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <dirent.h>
#include <ncurses.h>
#include <stdlib.h>
#include <string.h>

#include "../lua/host.h"
#include "../lua/report.h"
#include "../lua/script_args.h"
#include "ui_impl.h"

static struct rstate {
	int listed;
	int n;
	char **path, **name;
	int sel;
	/* pager: the report's Markdown, laid out for the width it was last drawn at */
	int paging;
	char *md;
	ui_mdline *line;
	int nline, top, width;
	char title[200];
	/* the selected report's declared arguments (script_args.h) */
	sargs args;
	int args_for; /* index + 1 of the report they were read for */
} rs;

static void pager_clear(void)
{
	ui_md_free(rs.line, rs.nline);
	free(rs.md);
	rs.md = NULL;
	rs.line = NULL;
	rs.nline = rs.top = rs.width = 0;
	rs.paging = 0;
}

/* The selected report's declarations, read once per selection. */
static const sargs *sel_args(void)
{
	if (rs.args_for != rs.sel + 1) {
		sargs_free(&rs.args);
		if (sargs_read(rs.path[rs.sel], &rs.args, NULL))
			memset(&rs.args, 0, sizeof rs.args);
		rs.args_for = rs.sel + 1;
	}
	return &rs.args;
}

void ui_reports_release(void)
{
	pager_clear();
	for (int i = 0; i < rs.n; i++) {
		free(rs.path[i]);
		free(rs.name[i]);
	}
	free(rs.path);
	free(rs.name);
	sargs_free(&rs.args);
	memset(&rs, 0, sizeof rs);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_dir(const char *dir, const char *tag)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	char **found = NULL;
	int nf = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n > 4 && !strcmp(e->d_name + n - 4, ".lua") && e->d_name[0] != '.') {
			found = xreallocarray(found, (size_t)nf + 1, sizeof *found);
			found[nf++] = xstrdup(e->d_name);
		}
	}
	closedir(d);
	if (nf > 1)
		qsort(found, (size_t)nf, sizeof *found, cmp_str);
	for (int i = 0; i < nf; i++) {
		rs.path = xreallocarray(rs.path, (size_t)rs.n + 1, sizeof *rs.path);
		rs.name = xreallocarray(rs.name, (size_t)rs.n + 1, sizeof *rs.name);
		rs.path[rs.n] = xasprintf("%s/%s", dir, found[i]);
		rs.name[rs.n] = xasprintf("%.*s%s", (int)strlen(found[i]) - 4, found[i], tag);
		rs.n++;
		free(found[i]);
	}
	free(found);
}

static void list_reports(ui_app *a)
{
	if (rs.listed)
		return;
	rs.listed = 1;
	char *dir = host_lua_dir();
	if (dir) {
		char *r = xasprintf("%s/reports", dir);
		add_dir(r, "");
		free(r);
		free(dir);
	}
	/* the user's own: scripts beside the workbench file */
	const char *slash = strrchr(a->path, '/');
	char *own = slash ? xasprintf("%.*s", (int)(slash - a->path), a->path) : xstrdup(".");
	add_dir(own, "  (yours)");
	free(own);
}

static void pager_set(const char *text)
{
	pager_clear();
	rs.paging = 1;
	rs.md = xstrdup(text);
}

static void print_line(void *ud, const char *line)
{
	buf_printf((lm_buf *)ud, "%s\n", line);
}

static void run_report(ui_app *a, const char *args)
{
	lm_err err = {0};
	lm_buf printed = {0};
	host_opts ho = {.timeout_s = 60, .print = print_line, .print_ud = &printed};
	host *h = host_new(a->db, NULL, a->co.model_id >= 0 ? a->co.model_name : NULL, &ho, &err);
	/* arguments as the command line would split them */
	char *copy = xstrdup(args ? args : ""), *save = NULL;
	char *argv[32];
	int argc = 0;
	for (char *t = strtok_r(copy, " ", &save); t && argc < 32; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	snprintf(rs.title, sizeof rs.title, "%.100s%s%.80s", rs.name[rs.sel], argc ? " " : "", args ? args : "");
	if (!h || host_run_file(h, rs.path[rs.sel], argc, argv, &err)) {
		lm_buf e = {0};
		buf_printf(&e, "The report stopped with an error:\n\n  %s\n", err.msg);
		if (printed.len)
			buf_printf(&e, "\nIt printed:\n%s", printed.data);
		pager_set(e.data);
		buf_free(&e);
	} else {
		lm_buf doc = {0};
		report_render(host_report(h), REPORT_MD, &doc);
		if (printed.len)
			buf_printf(&doc, "\n---\nprinted:\n%s", printed.data);
		pager_set(doc.len ? doc.data : "(the report is empty)");
		buf_free(&doc);
	}
	if (h)
		host_free(h);
	free(copy);
	buf_free(&printed);
}

static void reports_draw(ui_app *a)
{
	list_reports(a);
	char t[256];
	if (rs.paging) {
		if (rs.width != COLS - 2) { /* laid out again after a resize */
			ui_md_free(rs.line, rs.nline);
			rs.width = COLS - 2;
			rs.nline = ui_md_render(rs.md, rs.width, a->ascii, &rs.line);
		}
		snprintf(t, sizeof t, "report %s  (line %d of %d; Esc: back to the list)", rs.title,
			 rs.top + 1, rs.nline);
		ui_put_fit(1, 0, COLS, t);
		int h = LINES - 3;
		if (rs.top > rs.nline - h)
			rs.top = rs.nline - h > 0 ? rs.nline - h : 0;
		for (int i = 0; i < h && rs.top + i < rs.nline; i++)
			ui_md_draw(a, 2 + i, 1, COLS - 1, &rs.line[rs.top + i]);
		return;
	}
	ui_put_fit(1, 0, COLS, "Reports: Enter runs one, asking for its arguments; the output opens in a pager");
	if (rs.n == 0) {
		ui_put(3, 2, COLS - 4, "no Lua reports found (lua/reports, or *.lua beside the workbench file)");
		return;
	}
	if (rs.sel >= rs.n)
		rs.sel = rs.n - 1;
	for (int i = 0; i < rs.n && 3 + i < LINES - 1; i++) {
		if (i == rs.sel) {
			attron((attr_t)ui_attr_of(a, UI_A_CURSOR));
			ui_fill(3 + i, 0, COLS, ' ');
			mvaddch(3 + i, 0, '>');
		}
		ui_put(3 + i, 2, COLS - 2, rs.name[i]);
		if (i == rs.sel)
			attroff((attr_t)ui_attr_of(a, UI_A_CURSOR));
	}
	/* what the selected report is and the arguments it takes, below the list */
	const sargs *sa = sel_args();
	int y = 3 + rs.n + 1;
	if (sa->about && y < LINES - 1)
		y += ui_wrap(y, 2, COLS - 3, 2, sa->about);
	if (sa->n && y < LINES - 2) {
		attron((attr_t)ui_attr_of(a, UI_A_HEADER));
		ui_fill(y, 0, COLS, ' ');
		ui_put(y++, 2, COLS - 3, "arguments, in order (KEY= ones as KEY=VALUE)");
		attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
	}
	for (int i = 0; i < sa->n && y < LINES - 1; i++) {
		char line[400];
		snprintf(line, sizeof line, "%-12s %s", sa->name[i], sa->help[i]);
		y += ui_wrap(y, 4, COLS - 5, LINES - 1 - y, line);
	}
}

static void args_done(ui_app *a, const char *text) { run_report(a, text); }
static void k_run(ui_app *a)
{
	if (rs.paging || rs.n == 0)
		return;
	/* the prompt names what the report declares: "N MODEL: " */
	const sargs *sa = sel_args();
	char label[160] = "arguments (Enter for none): ";
	if (sa->n) {
		char *syn = sargs_synopsis(sa);
		snprintf(label, sizeof label, "%s %s: ", rs.name[rs.sel], syn);
		free(syn);
	}
	ui_start_prompt(a, label, "", args_done);
}
static void k_down(ui_app *a)
{
	(void)a;
	if (rs.paging)
		rs.top++;
	else if (rs.sel < rs.n - 1)
		rs.sel++;
}
static void k_up(ui_app *a)
{
	(void)a;
	if (rs.paging) {
		if (rs.top > 0)
			rs.top--;
	} else if (rs.sel > 0) {
		rs.sel--;
	}
}
static void k_pgdn(ui_app *a)
{
	(void)a;
	if (rs.paging)
		rs.top += LINES - 4;
}
static void k_pgup(ui_app *a)
{
	(void)a;
	if (rs.paging)
		rs.top = rs.top > LINES - 4 ? rs.top - (LINES - 4) : 0;
}
static void k_back(ui_app *a)
{
	if (rs.paging)
		pager_clear();
	else
		a->scr = UI_COHORT;
}

static const ui_key reports_keys[] = {
	{{'j', KEY_DOWN, UI_KEY_WHEEL_DOWN}, "j/Down", "next report (pager: scroll)", k_down},
	{{'k', KEY_UP, UI_KEY_WHEEL_UP}, "k/Up", "previous report (pager: scroll back)", k_up},
	{{KEY_NPAGE, ' '}, "PgDn/Space", "pager: next page", k_pgdn},
	{{KEY_PPAGE}, "PgUp", "pager: previous page", k_pgup},
	{{'\n', '\r', KEY_ENTER}, "Enter", "run the report (asks for its arguments)", k_run},
	{{27}, "Esc", "pager: back to the list", k_back},
	{{0}, NULL, NULL, NULL},
};

const ui_screen ui_reports_screen = {"Reports", reports_draw, reports_keys, NULL};
