/* ops_outcome.c: a time-to-event outcome read off the patients (lumen train --model cox, and
 * the fixed-horizon target of lumen train --time/--event/--horizon). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* The patient's label for messages: the id column's value or the row number. */
static const char *who(const frame *f, long i, char *buf, size_t len)
{
	for (int j = 0; j < f->ncol; j++)
		if (f->cols.c[j].role == COL_ROLE_ID)
			return frame_cell_text(f, j, i, buf, len);
	snprintf(buf, len, "%ld", f->rowid[i]);
	return buf;
}

int ops_outcome_read(const frame *f, const char *file, int tcol, int ecol, const char *ev_val,
		     double **time_out, int **event_out, long *events, char *desc, size_t desclen,
		     lm_err *err)
{
	const store_column *tm = f->col[tcol].meta, *em = f->col[ecol].meta;
	long n = f->nrow;
	char buf[128];
	*time_out = NULL;
	*event_out = NULL;
	if (tm->type == COL_TYPE_TEXT)
		return lm_seterr(err, EX_DATAERR, "%s: --time: column '%s' is text, not a time", file,
				 tm->name);
	double *time = *time_out = xmallocarray((size_t)(n ? n : 1), sizeof *time);
	int *event = *event_out = xmallocarray((size_t)(n ? n : 1), sizeof *event);
	const double *tv = f->col[tcol].v, *ev = f->col[ecol].v;
	for (long i = 0; i < n; i++) {
		if (isnan(tv[i]))
			return lm_seterr(err, EX_DATAERR, "%s: patient %s: time '%s' is missing", file,
					 who(f, i, buf, sizeof buf), tm->name);
		if (tv[i] < 0)
			return lm_seterr(err, EX_DATAERR, "%s: patient %s: time %s = %g is negative", file,
					 who(f, i, buf, sizeof buf), tm->name, tv[i]);
		time[i] = tv[i];
	}
	/* the event code */
	double evv = NAN, cens = NAN;
	if (ev_val) {
		if (em->type == COL_TYPE_TEXT) {
			for (int k = 0; k < em->ncat; k++)
				if (!strcmp(em->cats[k], ev_val))
					evv = k;
		} else if (parse_double(ev_val, &evv) != 0) {
			return lm_seterr(err, EX_USAGE, "--event: '%s' is not a number", ev_val);
		}
		int seen = 0;
		for (long i = 0; i < n; i++)
			seen |= ev[i] == evv;
		if (!seen)
			return lm_seterr(err, EX_DATAERR, "%s: --event: column '%s' has no value '%s'",
					 file, em->name, ev_val);
		snprintf(desc, desclen, "%s = %s", em->name, ev_val);
	} else {
		double lv[3];
		int nl = 0;
		for (long i = 0; i < n && nl < 3; i++) {
			if (isnan(ev[i]))
				continue;
			int s = 0;
			for (int k = 0; k < nl; k++)
				s |= lv[k] == ev[i];
			if (!s)
				lv[nl++] = ev[i];
		}
		if (em->type == COL_TYPE_TEXT || nl > 2)
			return lm_seterr(err, EX_DATAERR,
					 "%s: --event: column '%s' has values other than two event codes; "
					 "name the event: --event %s=VALUE",
					 file, em->name, em->name);
		if (nl == 2) {
			evv = lv[0] > lv[1] ? lv[0] : lv[1];
			cens = lv[0] + lv[1] - evv;
		} else if (nl == 1 && lv[0] != 0 && lv[0] != 1) {
			return lm_seterr(err, EX_DATAERR, "%s: --event: column '%s' has the one value %g",
					 file, em->name, lv[0]);
		} else { /* one value, 0 or 1: a 0/1 column */
			evv = 1;
			cens = 0;
		}
		snprintf(desc, desclen, "%s = %.15g", em->name, evv);
	}
	*events = 0;
	for (long i = 0; i < n; i++) {
		if (isnan(ev[i]))
			return lm_seterr(err, EX_DATAERR, "%s: patient %s: event '%s' is missing", file,
					 who(f, i, buf, sizeof buf), em->name);
		event[i] = ev[i] == evv;
		if (!ev_val && !event[i] && ev[i] != cens)
			return lm_seterr(err, EX_DATAERR, "%s: patient %s: event '%s' has another code", file,
					 who(f, i, buf, sizeof buf), em->name);
		*events += event[i];
	}
	if (*events == 0)
		return lm_seterr(err, EX_DATAERR, "%s: no events (%s): a Cox model needs some", file,
				 desc);
	return 0;
}

int ops_horizon_target(const frame *f, const char *file, const char *time_col,
		       const char *event, double horizon, enc_target *t, long *n_censored,
		       lm_err *err)
{
	memset(t, 0, sizeof *t);
	*n_censored = 0;
	/* the outcome checks of the Cox fit */
	char *ev_col = xstrdup(event), *ev_val;
	if ((ev_val = strchr(ev_col, '=')))
		*ev_val++ = '\0';
	int tcol = frame_find(f, time_col), ecol = frame_find(f, ev_col);
	double *time = NULL;
	int *ev = NULL;
	long events = 0;
	char desc[256];
	int st = tcol < 0 || ecol < 0
			 ? lm_seterr(err, EX_DATAERR, "%s: no column '%s' in patients", file,
				     tcol < 0 ? time_col : ev_col)
			 : ops_outcome_read(f, file, tcol, ecol, ev_val, &time, &ev, &events, desc,
					    sizeof desc, err);
	if (!st) {
		t->nclass = 2;
		t->classes = xcalloc(2, sizeof *t->classes);
		t->classes[0] = xasprintf("event-free at %g", horizon);
		t->classes[1] = xasprintf("event by %g", horizon);
		t->y = xmallocarray((size_t)(f->nrow ? f->nrow : 1), sizeof *t->y);
		long pos = 0, neg = 0;
		for (long i = 0; i < f->nrow; i++) {
			if (ev[i] && time[i] <= horizon) {
				t->y[i] = 1;
				pos++;
			} else if (time[i] >= horizon) {
				t->y[i] = 0; /* followed up to the horizon without the event */
				neg++;
			} else {
				t->y[i] = NAN; /* censored before the horizon: unknown */
				(*n_censored)++;
			}
		}
		t->n_missing = *n_censored;
		if (!pos || !neg) {
			st = lm_seterr(err, EX_DATAERR, "%s: --horizon %g: %s", file, horizon,
				       pos ? "every patient followed that long has the event"
					   : "no event before the horizon");
			enc_target_free(t);
		}
	}
	free(time);
	free(ev);
	free(ev_col);
	return st;
}
