/* groups.h: patient groups from one or more columns of the frame, for the audit and survival.
 *
 * A spec is "COL" or "COL,COL,..." (intersections). Text and boolean columns group by their
 * values; a numeric column groups by its distinct values when it has at most GROUPS_MAX_LEVELS
 * of them, otherwise it must be binned: a bins spec "COL=C1,C2,..." cuts it into
 * [-inf,C1) [C1,C2) ... [Ck,inf), labelled "COL<C1", "COL 40-65", "COL>=Ck".
 * Groups are the combinations present in the data, ordered by the columns' level order; rows
 * with a missing grouping value get group -1 and are counted in `missing`. */
#ifndef LUMEN_GROUPS_H
#define LUMEN_GROUPS_H

#include "../data/store.h"

#define GROUPS_MAX_LEVELS 20

typedef struct groups {
	int n;          /* number of groups */
	char **label;   /* "sex=f" or "sex=f,age 40-65"; owned */
	long *size;     /* patients per group */
	long nrow;
	int *of;        /* nrow entries: the row's group, or -1 */
	long missing;   /* rows with a missing grouping value */
	long empty;     /* combinations of levels with no patient (intersections only) */
	int ncols;      /* columns used */
	int *levels;    /* levels per column */
} groups;

/* Builds groups over f's rows. spec: "sex" or "sex,stage"; bins: array of "COL=C1,C2"
 * (may be empty). EX_DATAERR when a column is unknown, has a single level ("sex has one
 * level (f); nothing to compare"), too many levels without bins, or bad cut points.
 * Free with groups_free. */
int groups_build(const frame *f, const char *spec, char *const *bins, int nbins, groups *out,
		 lm_err *err);
void groups_free(groups *g);

/* Index of the group with this label, or -1. */
int groups_find(const groups *g, const char *label);

#endif
