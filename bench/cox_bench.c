/* cox_bench: times the Cox fit (src/stats/cox.c, Efron ties) on a numeric CSV whose first
 * two columns are time and event and the rest inputs, and prints the seconds, iterations,
 * coefficients and log-likelihood in a form bench/bench_cox.sh compares with R's coxph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/stats/cox.h"
#include "../src/util.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: cox_bench FILE.csv\n");
		return EX_USAGE;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		fprintf(stderr, "cox_bench: cannot read %s\n", argv[1]);
		return EX_NOINPUT;
	}
	char line[4096];
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		return EX_DATAERR;
	}
	int p = -2;
	for (char *c = line; *c; c++)
		p += *c == ',';
	p += 1; /* fields = commas + 1; inputs = fields - 2 */
	long n = 0, cap = 1024;
	double *X = xmallocarray((size_t)cap * (size_t)p, sizeof *X);
	double *t = xmallocarray((size_t)cap, sizeof *t);
	int *e = xmallocarray((size_t)cap, sizeof *e);
	while (fgets(line, sizeof line, f)) {
		if (n == cap) {
			cap *= 2;
			X = xreallocarray(X, (size_t)cap * (size_t)p, sizeof *X);
			t = xreallocarray(t, (size_t)cap, sizeof *t);
			e = xreallocarray(e, (size_t)cap, sizeof *e);
		}
		char *s = line, *end;
		t[n] = strtod(s, &end);
		e[n] = (int)strtol(end + 1, &end, 10);
		for (int a = 0; a < p; a++)
			X[(size_t)n * (size_t)p + (size_t)a] = strtod(end + 1, &end);
		n++;
	}
	fclose(f);
	cox_fit fit;
	lm_err err = {0};
	double t0 = lm_seconds();
	int st = cox_fit_run(X, t, e, n, p, NULL, &fit, &err);
	double secs = lm_seconds() - t0;
	if (st) {
		fprintf(stderr, "cox_bench: %s\n", err.msg);
		return st;
	}
	printf("lumen seconds %.3f iterations %d n %ld events %ld loglik %.6f\n", secs, fit.iter, n,
	       fit.events, fit.loglik);
	printf("lumen coef");
	for (int a = 0; a < p; a++)
		printf(" %.8f", fit.beta[a]);
	printf("\n");
	cox_fit_free(&fit);
	free(X);
	free(t);
	free(e);
	return 0;
}
