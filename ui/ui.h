/* ui.h: the terminal workbench (`lumen tui`). One event loop dispatches keys to the current
 * screen; each screen is a draw/key pair with a data-driven key table that also feeds the `?`
 * help. Everything shown is read from the workbench file or computed by the same module
 * functions the CLI uses; nothing is computed only here.
 *
 * ui_run is the only entry point for the commands. It restores the terminal on every path
 * (normal exit, lm_err, fatal hook from xmalloc, SIGINT/SIGTERM/SIGSEGV/SIGBUS/SIGABRT). */
#ifndef LUMEN_UI_H
#define LUMEN_UI_H

#include "../src/util.h"

typedef struct ui_opts {
	const char *path;    /* workbench file */
	const char *model;   /* model to show first, NULL = newest with predictions */
	const char *columns; /* comma-separated cohort columns, NULL = groups then features */
	int ascii;           /* no Unicode blocks or braille */
	int mono;            /* no colour (also when NO_COLOR is set or the terminal has none) */
	int headless;        /* render into a virtual screen, replay `keys` */
	const char *keys;    /* headless key script (see ui_keys_parse) */
	long frames;         /* headless: stop after this many frames (0 = when keys run out) */
	int width, height;   /* headless screen size */
	int dump;            /* headless: 1 print the final screen on stdout, 2 every frame */
	int stats;           /* headless: print per-frame timings on stderr */
} ui_opts;

/* Runs the TUI until `q` (or the headless keys/frames run out). 0 or a status with err set;
 * the terminal is restored before returning. */
int ui_run(const ui_opts *o, lm_err *err);

/* Parses a headless key script into key codes (ncurses KEY_* values and characters):
 * plain characters stand for themselves; \n Enter, \t Tab, \e Esc, \\ backslash; <down> <up>
 * <left> <right> <pgdn> <pgup> <home> <end> <enter> <esc> <tab> <bs> <wheelup> <wheeldown>,
 * and <resize:WxH> which resizes the virtual screen. Returns the number of keys, or -1 with
 * err set for an unknown <name>. *keys is malloc'd (caller frees); sizes of resizes go in
 * *sizes (two ints per key, 0 when not a resize; caller frees). */
int ui_keys_parse(const char *script, int **keys, int **sizes, lm_err *err);

/* Key code of a resize in a parsed key script (outside the ncurses range). */
#define UI_KEY_RESIZE_TO 0x7fff0001

#endif
