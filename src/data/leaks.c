/* leaks.c: see leaks.h. */
#include "leaks.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../stats/metrics.h"

static void add(leaks *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(leaks *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	l->msg = xreallocarray(l->msg, (size_t)l->n + 1, sizeof *l->msg);
	l->msg[l->n++] = xstrdup(line);
}

/* Words of a name that mark a date or a follow-up time: whole words ("time", "days"), or the
 * endings of the usual abbreviations (futime, dtime, rfstime, etime; admit_date). */
int leaks_time_name(const char *name)
{
	static const char *const words[] = {"time", "date", "day",	"days",	    "futime",
					    "follow", "followup", "fu",	"survival", "surv",
					    "duration", "tstart", "tstop", "start",    "stop",
					    "dob", "dod"};
	char w[64];
	const char *p = name;
	while (*p) {
		while (*p && !isalnum((unsigned char)*p))
			p++;
		size_t n = 0;
		while (*p && isalnum((unsigned char)*p)) {
			if (n + 1 < sizeof w)
				w[n++] = (char)tolower((unsigned char)*p);
			p++;
		}
		w[n] = 0;
		if (!n)
			continue;
		for (size_t i = 0; i < LM_ARRAY_LEN(words); i++)
			if (!strcmp(w, words[i]))
				return 1;
		if ((n > 4 && !strcmp(w + n - 4, "date")) || !strncmp(w, "date", 4))
			return 1;
		/* survival data's abbreviations: futime, dtime, rfstime, ostime ... (not protime,
		 * the prothrombin time, a lab value) */
		static const char *const pre[] = {"fu",  "d",	"r",	"rfs",	 "e",	  "s",
						  "os",	 "pfs", "dfs",	"t",	 "ev",	  "cens",
						  "surv", "follow", "stop", "start", "event", "death"};
		if (n > 4 && !strcmp(w + n - 4, "time"))
			for (size_t i = 0; i < LM_ARRAY_LEN(pre); i++)
				if (strlen(pre[i]) == n - 4 && !strncmp(w, pre[i], n - 4))
					return 1;
	}
	return 0;
}

/* 2020-01-31, 2020/01/31, 31/01/2020, 31.01.2020 (optionally followed by a time). */
static int date_like(const char *s)
{
	int d[3] = {0}, k = 0, len = 0;
	char sep = 0;
	for (const char *p = s; *p && k < 3; p++) {
		if (isdigit((unsigned char)*p)) {
			len++;
		} else if ((*p == '-' || *p == '/' || *p == '.') && len && k < 2 &&
			   (!sep || sep == *p)) {
			sep = *p;
			d[k++] = len;
			len = 0;
		} else {
			break;
		}
	}
	if (k != 2 || !len)
		return 0;
	d[2] = len;
	return (d[0] == 4 && d[1] <= 2 && d[2] <= 2) || (d[0] <= 2 && d[1] <= 2 && d[2] == 4);
}

/* AUC of one column as a score: the value itself (numbers, booleans), or for categories
 * the share of positives in the patient's category; taken in the better direction. */
static double column_auc(const frame_col *c, const enc_target *t, long nrow)
{
	double *p = xmallocarray((size_t)(nrow ? nrow : 1), sizeof *p);
	double *y = xmallocarray((size_t)(nrow ? nrow : 1), sizeof *y);
	long n = 0;
	int cat = c->meta->type == COL_TYPE_TEXT;
	int ncat = c->meta->ncat;
	double *pos = NULL, *all = NULL;
	if (cat) {
		if (ncat <= 0 || c->str) {
			free(p);
			free(y);
			return NAN;
		}
		pos = xcalloc((size_t)ncat, sizeof *pos);
		all = xcalloc((size_t)ncat, sizeof *all);
		for (long r = 0; r < nrow; r++)
			if (!isnan(c->v[r]) && !isnan(t->y[r]) && c->v[r] >= 0 && c->v[r] < ncat) {
				all[(int)c->v[r]]++;
				pos[(int)c->v[r]] += (double)t->y[r];
			}
	}
	for (long r = 0; r < nrow; r++) {
		if (isnan(c->v[r]) || isnan(t->y[r]))
			continue;
		if (cat) {
			int k = (int)c->v[r];
			if (k < 0 || k >= ncat)
				continue;
			p[n] = pos[k] / all[k];
		} else {
			p[n] = c->v[r];
		}
		y[n++] = (double)t->y[r];
	}
	double auc = n > 1 ? metrics_auc(p, y, NULL, n) : (double)NAN;
	free(p);
	free(y);
	free(pos);
	free(all);
	return isnan(auc) ? auc : fmax(auc, 1 - auc);
}

void leaks_check(const frame *f, const enc_target *t, const char *const *inputs, int ninput,
		 leaks *out)
{
	memset(out, 0, sizeof *out);
	long used = 0;
	for (long r = 0; r < f->nrow; r++)
		used += !isnan(t->y[r]);
	for (int i = 0; i < ninput; i++) {
		int j = frame_find(f, inputs[i]);
		if (j < 0)
			continue;
		const frame_col *c = &f->col[j];
		const store_column *m = c->meta;
		/* among the patients used: present and different for each */
		long present = 0;
		for (long r = 0; r < f->nrow; r++)
			present += !isnan(t->y[r]) && (!isnan(c->v[r]) || (c->str && c->str[r]));
		if ((m->type == COL_TYPE_INTEGER || m->type == COL_TYPE_TEXT) && m->missing == 0 &&
		    m->distinct >= f->nrow && f->nrow > 1 && present == used)
			add(out,
			    "input '%s' looks like an id: a different value for each of the %ld patients "
			    "(leave it out with --exclude %s, or lumen role FILE %s id)",
			    m->name, f->nrow, m->name, m->name);
		if (m->type == COL_TYPE_TEXT && m->distinct * 10 > f->nrow && f->nrow > 0)
			add(out,
			    "input '%s' is text with %ld categories for %ld patients: one-hot coded, "
			    "most categories are seen too rarely to learn from",
			    m->name, m->distinct, f->nrow);
		int dated = 0;
		if (m->type == COL_TYPE_TEXT && m->ncat > 0) {
			int k = 0, dates = 0;
			for (; k < m->ncat && k < 50; k++)
				dates += date_like(m->cats[k]);
			dated = k > 0 && dates * 2 > k;
		}
		if (leaks_time_name(m->name) || dated)
			add(out,
			    "input '%s' looks like %s and is used as a feature (a follow-up time tells "
			    "the outcome; use --time/--event, or --exclude %s)",
			    m->name, dated ? "a date" : "a date or a follow-up time", m->name);
		if (t->nclass == 2) {
			double auc = column_auc(c, t, f->nrow);
			if (auc > LEAKS_AUC)
				add(out,
				    "input '%s' alone almost determines the target (its own AUC %.3f): a "
				    "leak, such as a cause of death or a value recorded after the outcome?",
				    m->name, auc);
		}
	}
}

void leaks_free(leaks *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->msg[i]);
	free(l->msg);
	memset(l, 0, sizeof *l);
}
