/* script_args.c: a report's declared arguments, from its opening comments (script_args.h). */
#include "script_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trimmed(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return xstrndup(s, n);
}

int sargs_read(const char *path, sargs *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "r");
	if (!f)
		return lm_seterr(err, EX_NOINPUT, "%s: %s", path, strerror(errno));
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "--", 2))
			break;
		const char *s = line + 2;
		if (!strncmp(s, "@about", 6)) {
			free(out->about);
			out->about = trimmed(s + 6);
		} else if (!strncmp(s, "@arg", 4) && (s[4] == ' ' || s[4] == '\t')) {
			s += 4;
			while (*s == ' ' || *s == '\t')
				s++;
			size_t k = strcspn(s, " \t\r\n");
			if (k == 0)
				continue;
			out->name = xreallocarray(out->name, (size_t)out->n + 1, sizeof *out->name);
			out->help = xreallocarray(out->help, (size_t)out->n + 1, sizeof *out->help);
			out->name[out->n] = xstrndup(s, k);
			out->help[out->n++] = trimmed(s + k);
		}
	}
	fclose(f);
	return 0;
}

void sargs_free(sargs *a)
{
	for (int i = 0; i < a->n; i++) {
		free(a->name[i]);
		free(a->help[i]);
	}
	free(a->name);
	free(a->help);
	free(a->about);
	memset(a, 0, sizeof *a);
}

char *sargs_synopsis(const sargs *a)
{
	lm_buf b = {0};
	buf_puts(&b, "");
	for (int i = 0; i < a->n; i++) {
		size_t l = strlen(a->name[i]);
		int key = l > 0 && a->name[i][l - 1] == '=';
		buf_printf(&b, "%s[%s%s]", i ? " " : "", a->name[i], key ? "VALUE" : "");
	}
	char *s = xstrdup(b.data);
	buf_free(&b);
	return s;
}
