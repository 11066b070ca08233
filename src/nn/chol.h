/* chol.h: the Cholesky factorisation of a symmetric positive-definite P x P matrix (row-major,
 * lower triangle used) and the solve with it; the Newton steps of logreg.c and the ridge fit
 * of nnreg.c. */
#ifndef LUMEN_CHOL_H
#define LUMEN_CHOL_H

/* Factorises H = L L^T in place (L in the lower triangle); -1 when H is not positive
 * definite (H then holds a partial factor). */
int nn_cholesky(double *H, int P);
/* Solves L L^T x = b in place, L from nn_cholesky. */
void nn_chol_solve(const double *L, int P, double *b);

#endif
