/* attention.c: CLS attention rows and attention rollout from the transformer's blocks. */
#include "attention.h"

#include <stdlib.h>
#include <string.h>

void attn_rollout(const float *avg, int nb, int T, float *out)
{
	size_t TT = (size_t)T * (size_t)T;
	double *R = xmallocarray(TT, sizeof(double)), *A = xmallocarray(TT, sizeof(double));
	double *tmp = xmallocarray(TT, sizeof(double));
	for (int b = 0; b < nb; b++) {
		/* A' = rownorm(A + I); rows of A sum to 1, so this is (A + I) / 2 up to rounding,
		 * but renormalising keeps it exact for any input. */
		const float *Ab = avg + (size_t)b * TT;
		for (int i = 0; i < T; i++) {
			double s = 0.0;
			for (int j = 0; j < T; j++) {
				A[i * T + j] = (double)Ab[i * T + j] + (i == j ? 1.0 : 0.0);
				s += A[i * T + j];
			}
			for (int j = 0; j < T; j++)
				A[i * T + j] /= s;
		}
		if (b == 0) {
			memcpy(R, A, TT * sizeof(double));
			continue;
		}
		/* R <- A'_b R: later blocks act on the mixture earlier blocks produced. */
		for (int i = 0; i < T; i++)
			for (int j = 0; j < T; j++) {
				double s = 0.0;
				for (int k = 0; k < T; k++)
					s += A[i * T + k] * R[k * T + j];
				tmp[i * T + j] = s;
			}
		memcpy(R, tmp, TT * sizeof(double));
	}
	for (int t = 1; t < T; t++)
		out[t - 1] = nb > 0 ? (float)R[t] : 0.0f;
	free(R);
	free(A);
	free(tmp);
}

int attn_over_visits(const nn_model *net)
{
	const nn_spec *sp = nn_get_spec(net);
	return (sp->arch == NN_GRU || sp->arch == NN_CNNGRU) && sp->attention > 0;
}

int attn_visits(nn_model *net, const float *X, long n, int chunk, int out, float *w,
		float *logit, lm_err *err)
{
	const nn_spec *sp = nn_get_spec(net);
	if (!attn_over_visits(net))
		return lm_seterr(err, EX_USAGE, "attention over visits needs a gru or cnn-gru trained "
				 "with --attention (this one is %s)", nn_arch_name(sp->arch));
	int K = sp->seq_steps, no = sp->n_out;
	if (chunk <= 0)
		chunk = 256;
	float *lg = xmallocarray((size_t)chunk * (size_t)no, sizeof *lg);
	for (long i0 = 0; i0 < n; i0 += chunk) {
		int nc = (int)(n - i0 < chunk ? n - i0 : chunk);
		nn_forward(net, X + (size_t)i0 * (size_t)sp->n_in, nc, lg, 0, NULL);
		memcpy(w + (size_t)i0 * (size_t)K, nn_visit_attention(net),
		       (size_t)nc * (size_t)K * sizeof *w);
		for (int p = 0; logit && p < nc; p++)
			logit[i0 + p] = lg[(size_t)p * (size_t)no + (size_t)(no == 1 ? 0 : out)];
	}
	free(lg);
	return 0;
}

int attn_explain(nn_model *net, const float *X, long n, int chunk, float *heads, float *last,
		 float *rollout, lm_err *err)
{
	const nn_spec *sp = nn_get_spec(net);
	if (sp->arch != NN_TRANSFORMER)
		return lm_seterr(err, EX_USAGE, "attention needs a transformer model (this one is %s)",
				 nn_arch_name(sp->arch));
	int nb = sp->n_blocks, nh = sp->n_heads, ntok = sp->n_tokens, T = ntok + 1;
	size_t TT = (size_t)T * (size_t)T;
	if (chunk <= 0)
		chunk = 1024;
	float *logits = xmallocarray((size_t)chunk * (size_t)sp->n_out, sizeof(float));
	float *avg = xmallocarray((size_t)nb * TT, sizeof(float));
	for (long i0 = 0; i0 < n; i0 += chunk) {
		int nc = (int)(n - i0 < chunk ? n - i0 : chunk);
		nn_forward(net, X + (size_t)i0 * (size_t)sp->n_in, nc, logits, 0, NULL);
		for (int p = 0; p < nc; p++) {
			long pi = i0 + p;
			for (int b = 0; b < nb; b++) {
				const float *A = nn_attention(net, b) + (size_t)p * (size_t)nh * TT;
				float *Av = avg + (size_t)b * TT;
				for (size_t e = 0; e < TT; e++) {
					double s = 0.0;
					for (int h = 0; h < nh; h++)
						s += (double)A[(size_t)h * TT + e];
					Av[e] = (float)(s / nh);
				}
				if (heads)
					for (int h = 0; h < nh; h++) {
						float *o = heads + (((size_t)pi * (size_t)nb + (size_t)b) * (size_t)nh +
								    (size_t)h) * (size_t)ntok;
						/* query 0 (CLS), keys 1..T-1 */
						memcpy(o, A + (size_t)h * TT + 1, (size_t)ntok * sizeof(float));
					}
				if (last && b == nb - 1)
					memcpy(last + (size_t)pi * (size_t)ntok, Av + 1,
					       (size_t)ntok * sizeof(float));
			}
			if (rollout)
				attn_rollout(avg, nb, T, rollout + (size_t)pi * (size_t)ntok);
		}
	}
	free(logits);
	free(avg);
	return 0;
}
