/* script_args.h: the arguments a Lua report declares (sargs_*), read from its opening comment
 * block without running it, for `lumen report FILE NAME --help` and the TUI's Reports screen:
 *   --@about one line saying what the report is
 *   --@arg NAME  what it is (default: ...)
 * one --@arg line per positional argument, in order; a NAME ending in '=' (threshold=) is a
 * KEY=VALUE argument. Lines before the first line that is not a comment are read. */
#ifndef LUMEN_SCRIPT_ARGS_H
#define LUMEN_SCRIPT_ARGS_H

#include "../src/util.h"

typedef struct sargs {
	char *about;  /* NULL when the script says nothing */
	int n;
	char **name;  /* n names ("N", "MODEL", "threshold=") */
	char **help;  /* n descriptions ("" when none) */
} sargs;

/* Reads the declarations of the script at path into *out (zeroed first; free with
 * sargs_free). 0, or EX_NOINPUT when the file cannot be read. */
int sargs_read(const char *path, sargs *out, lm_err *err);
void sargs_free(sargs *a);
/* "N MODEL threshold=..." (the positional names then the keys), malloc'd; "" when none. */
char *sargs_synopsis(const sargs *a);

#endif
