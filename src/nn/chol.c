/* chol.c: Cholesky factorisation and solve (see chol.h). */
#include "chol.h"

#include <math.h>
#include <stddef.h>

int nn_cholesky(double *H, int P)
{
	for (int j = 0; j < P; j++) {
		double d = H[(size_t)j * P + j];
		for (int k = 0; k < j; k++)
			d -= H[(size_t)j * P + k] * H[(size_t)j * P + k];
		if (!(d > 0.0))
			return -1;
		d = sqrt(d);
		H[(size_t)j * P + j] = d;
		for (int i = j + 1; i < P; i++) {
			double s = H[(size_t)i * P + j];
			for (int k = 0; k < j; k++)
				s -= H[(size_t)i * P + k] * H[(size_t)j * P + k];
			H[(size_t)i * P + j] = s / d;
		}
	}
	return 0;
}

void nn_chol_solve(const double *L, int P, double *b)
{
	for (int i = 0; i < P; i++) {
		double s = b[i];
		for (int k = 0; k < i; k++)
			s -= L[(size_t)i * P + k] * b[k];
		b[i] = s / L[(size_t)i * P + i];
	}
	for (int i = P - 1; i >= 0; i--) {
		double s = b[i];
		for (int k = i + 1; k < P; k++)
			s -= L[(size_t)k * P + i] * b[k];
		b[i] = s / L[(size_t)i * P + i];
	}
}
