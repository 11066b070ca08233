/* nn.c: the three architectures over the operators of nn_layers.c — parameter layout and
 * initialisation, workspaces, forward and backward passes, the loss, prediction and the
 * whole-model finite-difference check. Training (AdamW) is in train.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "nn_internal.h"
#include "nn_layers.h"
#include "nn_seq.h"

enum { INIT_ZERO = NN_INIT_ZERO, INIT_ONE = NN_INIT_ONE, INIT_KAIMING = NN_INIT_KAIMING,
       INIT_UNIFORM = NN_INIT_UNIFORM };

typedef struct nn_tensor {
	char name[48];
	int rank, shape[4];
	size_t off, size;
	int init;    /* INIT_* */
	float bound; /* INIT_UNIFORM: U(-bound, bound); INIT_KAIMING: N(0, bound^2) */
} nn_tensor;

/* Parameter offsets of one transformer block. */
typedef struct blk_par {
	size_t ln1g, ln1b, wqkv, bqkv, wo, bo, ln2g, ln2b, w1, b1, w2, b2;
} blk_par;

/* Activations of one transformer block kept for the backward pass (R = rows x tokens). */
typedef struct blk_act {
	float *h1, *mu1, *rs1; /* LN1 of the block's input stream */
	float *qkv;            /* R x 3d */
	float *P;              /* n x H x T x T attention probabilities */
	float *O;              /* R x d, heads concatenated */
	float *am;             /* R x d dropout mask on the attention output */
	float *xm;             /* R x d stream after attention */
	float *h2, *mu2, *rs2; /* LN2 */
	float *f1, *f2, *fm;   /* R x f: FFN pre-GELU, post-GELU-and-dropout, mask */
} blk_act;

struct nn_model {
	nn_spec spec;
	int *slot_token;
	size_t np;
	float *p, *g;
	nn_tensor *t;
	int nt;
	/* parameter offsets */
	size_t lw[NN_MAX_HIDDEN + 1], lb[NN_MAX_HIDDEN + 1]; /* logreg: [0]; mlp: layers, head */
	size_t tokw, tokb, cls, hlg, hlb, hw, hb;            /* transformer */
	blk_par *bp;
	/* workspace for `cap` rows */
	int cap;
	float *ws;
	float *xin;                        /* cap x n_in: copy of the last input */
	float *act[NN_MAX_HIDDEN];         /* mlp: post-activation of each hidden layer */
	float *mask[NN_MAX_HIDDEN];        /* mlp: dropout masks */
	float *da, *db;                    /* mlp: ping-pong gradients, cap x max width */
	float **xs;                        /* transformer: stream entering block b (n_blocks+1) */
	blk_act *ba;
	float *oc, *dxc;                   /* transformer: last block's CLS rows */
	float *hh, *hmu, *hrs, *dhh;       /* transformer head */
	float *dx, *dh, *dO, *dqkv, *df;   /* transformer backward buffers */
	float *scratch;                    /* attention scratch */
	nn_seq *sq;                        /* gru, cnn, cnn-gru: state and workspace */
	float *pws;                        /* nn_path_grad's rows, gradients and logits */
	size_t pcap;
	/* last forward */
	int n, trained, have_fwd;
};

const char *nn_arch_name(nn_arch a)
{
	switch (a) {
	case NN_LOGREG: return "logreg";
	case NN_MLP: return "mlp";
	case NN_TRANSFORMER: return "transformer";
	case NN_GRU: return "gru";
	case NN_CNN: return "cnn";
	case NN_CNNGRU: return "cnn-gru";
	}
	return "?";
}

int nn_arch_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "logreg"))
		return NN_LOGREG;
	if (!strcmp(s, "mlp"))
		return NN_MLP;
	if (!strcmp(s, "transformer"))
		return NN_TRANSFORMER;
	if (!strcmp(s, "gru"))
		return NN_GRU;
	if (!strcmp(s, "cnn"))
		return NN_CNN;
	if (!strcmp(s, "cnn-gru"))
		return NN_CNNGRU;
	return -1;
}

void nn_spec_defaults(nn_spec *s, nn_arch arch, int n_in, int n_out)
{
	memset(s, 0, sizeof *s);
	s->arch = arch;
	s->n_in = n_in;
	s->n_out = n_out;
	s->l2 = 1e-3f;
	s->n_hidden = 2;
	s->hidden[0] = 64;
	s->hidden[1] = 64;
	s->dropout = 0.1f;
	s->d_model = 32;
	s->n_blocks = 2;
	s->n_heads = 4;
	s->d_ffn = 64;
	s->n_tokens = n_in;
	s->slot_token = NULL;
	s->gru_hidden = 32;
	s->conv_channels = 32;
	s->conv_width = 3;
}

size_t nn_add_tensor(nn_model *m, const char *name, int rank, int d0, int d1, int init,
			 float bound)
{
	m->t = xreallocarray(m->t, (size_t)m->nt + 1, sizeof *m->t);
	nn_tensor *t = &m->t[m->nt++];
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", name);
	t->rank = rank;
	t->shape[0] = d0;
	t->shape[1] = rank > 1 ? d1 : 0;
	t->size = (size_t)d0 * (rank > 1 ? (size_t)d1 : 1);
	t->off = m->np;
	t->init = init;
	t->bound = bound;
	m->np += t->size;
	return t->off;
}

static int check_spec(const nn_spec *s, lm_err *err)
{
	if (s->n_in < 1)
		return lm_seterr(err, EX_DATAERR, "a model needs at least one input (got %d)", s->n_in);
	if (s->n_out < 1 || s->n_out > 1000)
		return lm_seterr(err, EX_DATAERR, "bad number of outputs %d (1 for binary, C for C classes)",
				 s->n_out);
	if (!(s->dropout >= 0.0f && s->dropout < 1.0f))
		return lm_seterr(err, EX_DATAERR, "dropout %g is outside [0, 1)", (double)s->dropout);
	switch (s->arch) {
	case NN_LOGREG:
		if (!(s->l2 >= 0.0f))
			return lm_seterr(err, EX_DATAERR, "l2 penalty %g is negative", (double)s->l2);
		return 0;
	case NN_MLP:
		if (s->n_hidden < 1 || s->n_hidden > NN_MAX_HIDDEN)
			return lm_seterr(err, EX_DATAERR, "an mlp has 1 to %d hidden layers (got %d)",
					 NN_MAX_HIDDEN, s->n_hidden);
		for (int i = 0; i < s->n_hidden; i++)
			if (s->hidden[i] < 1 || s->hidden[i] > 65536)
				return lm_seterr(err, EX_DATAERR, "hidden layer %d has %d units", i + 1,
						 s->hidden[i]);
		return 0;
	case NN_TRANSFORMER:
		if (s->d_model < 1 || s->d_model > 4096 || s->n_heads < 1 || s->d_model % s->n_heads)
			return lm_seterr(err, EX_DATAERR,
					 "d_model %d must be a positive multiple of the %d heads",
					 s->d_model, s->n_heads);
		if (s->n_blocks < 1 || s->n_blocks > 64)
			return lm_seterr(err, EX_DATAERR, "a transformer has 1 to 64 blocks (got %d)",
					 s->n_blocks);
		if (s->d_ffn < 1 || s->d_ffn > 65536)
			return lm_seterr(err, EX_DATAERR, "bad FFN width %d", s->d_ffn);
		if (s->slot_token) {
			if (s->n_tokens < 1)
				return lm_seterr(err, EX_DATAERR, "a transformer needs at least one token");
			for (int i = 0; i < s->n_in; i++)
				if (s->slot_token[i] < 0 || s->slot_token[i] >= s->n_tokens)
					return lm_seterr(err, EX_DATAERR,
							 "input slot %d maps to token %d, outside 0..%d", i,
							 s->slot_token[i], s->n_tokens - 1);
		} else if (s->n_tokens != s->n_in && s->n_tokens != 0) {
			return lm_seterr(err, EX_DATAERR,
					 "%d tokens for %d inputs without a slot-to-token map",
					 s->n_tokens, s->n_in);
		}
		return 0;
	case NN_GRU:
	case NN_CNN:
	case NN_CNNGRU:
		return nn_seq_check(s, err);
	}
	return lm_seterr(err, EX_DATAERR, "unknown architecture %d", (int)s->arch);
}

static void layout(nn_model *m)
{
	const nn_spec *s = &m->spec;
	char nm[48];
	switch (s->arch) {
	case NN_LOGREG:
		m->lw[0] = nn_add_tensor(m, "w", 2, s->n_in, s->n_out, INIT_ZERO, 0);
		m->lb[0] = nn_add_tensor(m, "b", 1, s->n_out, 0, INIT_ZERO, 0);
		break;
	case NN_MLP: {
		int prev = s->n_in;
		for (int i = 0; i < s->n_hidden; i++) {
			snprintf(nm, sizeof nm, "layers.%d.w", i);
			m->lw[i] = nn_add_tensor(m, nm, 2, prev, s->hidden[i], INIT_KAIMING,
					      sqrtf(2.0f / (float)prev));
			snprintf(nm, sizeof nm, "layers.%d.b", i);
			m->lb[i] = nn_add_tensor(m, nm, 1, s->hidden[i], 0, INIT_ZERO, 0);
			prev = s->hidden[i];
		}
		m->lw[s->n_hidden] = nn_add_tensor(m, "head.w", 2, prev, s->n_out, INIT_UNIFORM,
						1.0f / sqrtf((float)prev));
		m->lb[s->n_hidden] = nn_add_tensor(m, "head.b", 1, s->n_out, 0, INIT_ZERO, 0);
		break;
	}
	case NN_TRANSFORMER: {
		int d = s->d_model, f = s->d_ffn;
		float bd = 1.0f / sqrtf((float)d), bf = 1.0f / sqrtf((float)f);
		m->tokw = nn_add_tensor(m, "tokens.w", 2, s->n_in, d, INIT_UNIFORM, bd);
		m->tokb = nn_add_tensor(m, "tokens.b", 2, s->n_tokens, d, INIT_UNIFORM, bd);
		m->cls = nn_add_tensor(m, "tokens.cls", 1, d, 0, INIT_UNIFORM, bd);
		m->bp = xcalloc((size_t)s->n_blocks, sizeof *m->bp);
		for (int b = 0; b < s->n_blocks; b++) {
			blk_par *p = &m->bp[b];
#define T_(field, suffix, rank, d0, d1, init, bound)                            \
	do {                                                                 \
		snprintf(nm, sizeof nm, "blocks.%d.%s", b, suffix);          \
		p->field = nn_add_tensor(m, nm, rank, d0, d1, init, bound);     \
	} while (0)
			T_(ln1g, "ln1.g", 1, d, 0, INIT_ONE, 0);
			T_(ln1b, "ln1.b", 1, d, 0, INIT_ZERO, 0);
			T_(wqkv, "attn.wqkv", 2, d, 3 * d, INIT_UNIFORM, bd);
			T_(bqkv, "attn.bqkv", 1, 3 * d, 0, INIT_ZERO, 0);
			T_(wo, "attn.wo", 2, d, d, INIT_UNIFORM, bd);
			T_(bo, "attn.bo", 1, d, 0, INIT_ZERO, 0);
			T_(ln2g, "ln2.g", 1, d, 0, INIT_ONE, 0);
			T_(ln2b, "ln2.b", 1, d, 0, INIT_ZERO, 0);
			T_(w1, "ffn.w1", 2, d, f, INIT_UNIFORM, bd);
			T_(b1, "ffn.b1", 1, f, 0, INIT_ZERO, 0);
			T_(w2, "ffn.w2", 2, f, d, INIT_UNIFORM, bf);
			T_(b2, "ffn.b2", 1, d, 0, INIT_ZERO, 0);
#undef T_
		}
		m->hlg = nn_add_tensor(m, "head.ln.g", 1, d, 0, INIT_ONE, 0);
		m->hlb = nn_add_tensor(m, "head.ln.b", 1, d, 0, INIT_ZERO, 0);
		m->hw = nn_add_tensor(m, "head.w", 2, d, s->n_out, INIT_UNIFORM, bd);
		m->hb = nn_add_tensor(m, "head.b", 1, s->n_out, 0, INIT_ZERO, 0);
		break;
	}
	case NN_GRU:
	case NN_CNN:
	case NN_CNNGRU:
		m->sq = nn_seq_layout(m);
		break;
	}
}

nn_model *nn_create(const nn_spec *spec, uint64_t seed, lm_err *err)
{
	if (!spec) {
		lm_seterr(err, EX_SOFTWARE, "no model spec");
		return NULL;
	}
	nn_spec s = *spec;
	if (s.arch == NN_TRANSFORMER && !s.slot_token)
		s.n_tokens = s.n_in;
	if (check_spec(&s, err))
		return NULL;
	nn_model *m = xcalloc(1, sizeof *m);
	m->spec = s;
	if (s.arch == NN_TRANSFORMER) {
		m->slot_token = xmallocarray((size_t)s.n_in, sizeof *m->slot_token);
		for (int i = 0; i < s.n_in; i++)
			m->slot_token[i] = s.slot_token ? s.slot_token[i] : i;
		m->spec.slot_token = m->slot_token;
	} else {
		m->spec.slot_token = NULL;
	}
	layout(m);
	m->p = xcalloc(m->np, sizeof *m->p);
	m->g = xcalloc(m->np, sizeof *m->g);
	lm_rng rng;
	rng_seed(&rng, seed);
	for (int i = 0; i < m->nt; i++) {
		nn_tensor *t = &m->t[i];
		float *p = m->p + t->off;
		for (size_t j = 0; j < t->size; j++) {
			switch (t->init) {
			case INIT_ZERO: p[j] = 0.0f; break;
			case INIT_ONE: p[j] = 1.0f; break;
			case INIT_KAIMING: p[j] = (float)rng_normal(&rng) * t->bound; break;
			default: p[j] = (float)(2.0 * rng_uniform(&rng) - 1.0) * t->bound; break;
			}
		}
	}
	return m;
}

nn_model *nn_clone(const nn_model *m)
{
	lm_err err = {0};
	nn_model *c = nn_create(&m->spec, 0, &err); /* m's spec passed its checks already */
	if (!c)
		return NULL;
	memcpy(c->p, m->p, m->np * sizeof *c->p);
	return c;
}

void nn_free(nn_model *m)
{
	if (!m)
		return;
	free(m->slot_token);
	free(m->p);
	free(m->g);
	free(m->t);
	free(m->bp);
	free(m->ws);
	free(m->xs);
	free(m->ba);
	nn_seq_free(m->sq);
	free(m->pws);
	free(m);
}

const nn_spec *nn_get_spec(const nn_model *m) { return &m->spec; }
size_t nn_nparams(const nn_model *m) { return m->np; }
float *nn_params(nn_model *m) { return m->p; }
float *nn_grads(nn_model *m) { return m->g; }
void nn_zero_grad(nn_model *m) { memset(m->g, 0, m->np * sizeof *m->g); }
int nn_ntensors(const nn_model *m) { return m->nt; }

const char *nn_tensor_name(const nn_model *m, int i)
{
	return i >= 0 && i < m->nt ? m->t[i].name : NULL;
}

int nn_tensor_shape(const nn_model *m, int i, int shape[4])
{
	if (i < 0 || i >= m->nt)
		return -1;
	memcpy(shape, m->t[i].shape, sizeof m->t[i].shape);
	return m->t[i].rank;
}

float *nn_tensor_data(nn_model *m, int i)
{
	return i >= 0 && i < m->nt ? m->p + m->t[i].off : NULL;
}

size_t nn_tensor_size(const nn_model *m, int i)
{
	return i >= 0 && i < m->nt ? m->t[i].size : 0;
}

size_t nn_tensor_offset(const nn_model *m, int i) { return m->t[i].off; }
int nn_tensor_decays(const nn_model *m, int i)
{
	const char *nm = m->t[i].name;
	return m->t[i].rank == 2 && strncmp(nm, "tokens.", 7) != 0;
}

/* ---- workspace ---- */

/* Carves the workspace for `cap` rows: with base == NULL only counts floats. Every region is
 * rounded up to 16 floats so vectors start on 64-byte boundaries. */
static size_t carve(float **slot, float *base, size_t *off, size_t count)
{
	*slot = base ? base + *off : NULL;
	*off += (count + 15) & ~(size_t)15;
	return *off;
}

static size_t ws_layout(nn_model *m, size_t cap, float *base)
{
	const nn_spec *s = &m->spec;
	size_t off = 0;
	carve(&m->xin, base, &off, cap * s->n_in);
	switch (s->arch) {
	case NN_LOGREG:
	case NN_GRU: /* the sequence models keep their own workspace (nn_seq.c) */
	case NN_CNN:
	case NN_CNNGRU:
		break;
	case NN_MLP: {
		int wmax = s->n_in;
		for (int i = 0; i < s->n_hidden; i++) {
			carve(&m->act[i], base, &off, cap * s->hidden[i]);
			carve(&m->mask[i], base, &off, cap * s->hidden[i]);
			wmax = s->hidden[i] > wmax ? s->hidden[i] : wmax;
		}
		carve(&m->da, base, &off, cap * wmax);
		carve(&m->db, base, &off, cap * wmax);
		break;
	}
	case NN_TRANSFORMER: {
		size_t T = (size_t)s->n_tokens + 1, R = cap * T, d = s->d_model, f = s->d_ffn;
		size_t H = s->n_heads;
		for (int b = 0; b <= s->n_blocks; b++)
			carve(&m->xs[b], base, &off, R * d);
		for (int b = 0; b < s->n_blocks; b++) {
			blk_act *a = &m->ba[b];
			carve(&a->h1, base, &off, R * d);
			carve(&a->mu1, base, &off, R);
			carve(&a->rs1, base, &off, R);
			carve(&a->qkv, base, &off, R * 3 * d);
			carve(&a->P, base, &off, cap * H * T * T);
			carve(&a->O, base, &off, R * d);
			carve(&a->am, base, &off, R * d);
			carve(&a->xm, base, &off, R * d);
			carve(&a->h2, base, &off, R * d);
			carve(&a->mu2, base, &off, R);
			carve(&a->rs2, base, &off, R);
			carve(&a->f1, base, &off, R * f);
			carve(&a->f2, base, &off, R * f);
			carve(&a->fm, base, &off, R * f);
		}
		carve(&m->oc, base, &off, cap * d);
		carve(&m->dxc, base, &off, cap * d);
		carve(&m->hh, base, &off, cap * d);
		carve(&m->hmu, base, &off, cap);
		carve(&m->hrs, base, &off, cap);
		carve(&m->dhh, base, &off, cap * d);
		carve(&m->dx, base, &off, R * d);
		carve(&m->dh, base, &off, R * d);
		carve(&m->dO, base, &off, R * d);
		carve(&m->dqkv, base, &off, R * 3 * d);
		carve(&m->df, base, &off, R * f);
		carve(&m->scratch, base, &off, nn_attention_scratch((int)T, (int)(d / H)));
		break;
	}
	}
	return off;
}

/* Makes room for n rows; reallocates only when a batch larger than any before arrives. */
static void ws_reserve(nn_model *m, int n)
{
	if (n <= m->cap)
		return;
	if (m->spec.arch == NN_TRANSFORMER && !m->xs) {
		m->xs = xcalloc((size_t)m->spec.n_blocks + 1, sizeof *m->xs);
		m->ba = xcalloc((size_t)m->spec.n_blocks, sizeof *m->ba);
	}
	free(m->ws);
	size_t total = ws_layout(m, (size_t)n, NULL);
	m->ws = xmallocarray(total, sizeof *m->ws);
	ws_layout(m, (size_t)n, m->ws);
	m->cap = n;
	m->have_fwd = 0;
}

/* ---- forward ---- */

static void forward_logreg(nn_model *m, int n, float *logits)
{
	const nn_spec *s = &m->spec;
	nn_op_linear(NN_FWD, n, s->n_in, s->n_out, m->xin, m->p + m->lw[0], m->p + m->lb[0],
		     logits, 0, NULL, NULL, 0, NULL, NULL);
}

static void forward_mlp(nn_model *m, int n, float *logits, lm_rng *rng)
{
	const nn_spec *s = &m->spec;
	const float *a = m->xin;
	int w = s->n_in;
	for (int i = 0; i < s->n_hidden; i++) {
		int h = s->hidden[i];
		/* Z = A W (no bias), then bias, ReLU and dropout fused into one pass over Z. */
		nn_sgemm(0, 0, n, h, w, 1.0f, a, w, m->p + m->lw[i], h, 0.0f, m->act[i], h);
		const float *mask = NULL;
		if (rng && s->dropout > 0.0f) {
			nn_dropout_mask((size_t)n * h, s->dropout, rng, m->mask[i]);
			mask = m->mask[i];
		}
		nn_op_bias_relu_dropout(NN_FWD, n, h, m->act[i], m->p + m->lb[i], mask, NULL, NULL,
					NULL);
		a = m->act[i];
		w = h;
	}
	nn_op_linear(NN_FWD, n, w, s->n_out, a, m->p + m->lw[s->n_hidden],
		     m->p + m->lb[s->n_hidden], logits, 0, NULL, NULL, 0, NULL, NULL);
}

/* The head reads only the CLS token of the last block, so that block runs its attention for
 * every token (the keys and values, and the complete maps nn_attention returns) but its
 * output projection, residuals and FFN on the CLS rows alone: R' = n rows instead of n T
 * (as in the FT-Transformer reference code). */
static void forward_transformer(nn_model *m, int n, float *logits, lm_rng *rng)
{
	const nn_spec *s = &m->spec;
	int d = s->d_model, f = s->d_ffn, T = s->n_tokens + 1, H = s->n_heads, B = s->n_blocks;
	float *p = m->p;
	float drop = rng ? s->dropout : 0.0f;
	nn_op_tokens(NN_FWD, n, s->n_in, s->n_tokens, d, m->slot_token, m->xin, p + m->tokw,
		     p + m->tokb, p + m->cls, m->xs[0], NULL, NULL, NULL, NULL, NULL);
	for (int b = 0; b < B; b++) {
		blk_par *bp = &m->bp[b];
		blk_act *a = &m->ba[b];
		const float *x = m->xs[b];
		int R = n * T, last = b == B - 1;
		/* x_mid = x + dropout(MHA(LN1(x))) */
		nn_op_layernorm(NN_FWD, R, d, x, p + bp->ln1g, p + bp->ln1b, a->h1, a->mu1, a->rs1,
				NULL, NULL, 0, NULL, NULL);
		nn_op_linear(NN_FWD, R, d, 3 * d, a->h1, p + bp->wqkv, p + bp->bqkv, a->qkv, 0,
			     NULL, NULL, 0, NULL, NULL);
		nn_op_attention(NN_FWD, n, T, d, H, a->qkv, a->P, a->O, NULL, NULL, m->scratch);
		const float *o = a->O;
		if (last) { /* from here on, the CLS rows only */
			for (int r = 0; r < n; r++) {
				memcpy(m->oc + (size_t)r * d, a->O + (size_t)r * T * d,
				       (size_t)d * sizeof *m->oc);
				memcpy(a->xm + (size_t)r * d, x + (size_t)r * T * d,
				       (size_t)d * sizeof *a->xm);
			}
			o = m->oc;
			R = n;
		} else {
			memcpy(a->xm, x, (size_t)R * d * sizeof *a->xm);
		}
		if (drop > 0.0f) {
			/* The projection goes to a backward buffer, then is masked into the
			 * stream. */
			nn_op_linear(NN_FWD, R, d, d, o, p + bp->wo, p + bp->bo, m->dh, 0, NULL, NULL,
				     0, NULL, NULL);
			nn_op_dropout(NN_FWD, (size_t)R * d, drop, rng, a->am, m->dh, m->dh, NULL,
				      NULL);
			for (size_t i = 0; i < (size_t)R * d; i++)
				a->xm[i] += m->dh[i];
		} else {
			nn_op_linear(NN_FWD, R, d, d, o, p + bp->wo, p + bp->bo, a->xm, 1, NULL, NULL,
				     0, NULL, NULL);
		}
		/* x_out = x_mid + W2 dropout(GELU(W1 LN2(x_mid))) */
		nn_op_layernorm(NN_FWD, R, d, a->xm, p + bp->ln2g, p + bp->ln2b, a->h2, a->mu2,
				a->rs2, NULL, NULL, 0, NULL, NULL);
		nn_op_linear(NN_FWD, R, d, f, a->h2, p + bp->w1, p + bp->b1, a->f1, 0, NULL, NULL, 0,
			     NULL, NULL);
		nn_op_gelu(NN_FWD, (size_t)R * f, a->f1, a->f2, NULL, NULL);
		nn_op_dropout(NN_FWD, (size_t)R * f, drop, drop > 0.0f ? rng : NULL, a->fm, a->f2,
			      a->f2, NULL, NULL);
		memcpy(m->xs[b + 1], a->xm, (size_t)R * d * sizeof *a->xm);
		nn_op_linear(NN_FWD, R, f, d, a->f2, p + bp->w2, p + bp->b2, m->xs[b + 1], 1, NULL,
			     NULL, 0, NULL, NULL);
	}
	/* Head: LN then linear on the CLS token of every row (xs[B] holds only those). */
	nn_op_layernorm(NN_FWD, n, d, m->xs[B], p + m->hlg, p + m->hlb, m->hh, m->hmu, m->hrs, NULL,
			NULL, 0, NULL, NULL);
	nn_op_linear(NN_FWD, n, d, s->n_out, m->hh, p + m->hw, p + m->hb, logits, 0, NULL, NULL, 0,
		     NULL, NULL);
}

void nn_forward(nn_model *m, const float *X, int n, float *logits, int train, lm_rng *rng)
{
	if (n <= 0)
		return;
	ws_reserve(m, n);
	memcpy(m->xin, X, (size_t)n * m->spec.n_in * sizeof *m->xin);
	lm_rng *r = train && m->spec.dropout > 0.0f ? rng : NULL;
	switch (m->spec.arch) {
	case NN_LOGREG: forward_logreg(m, n, logits); break;
	case NN_MLP: forward_mlp(m, n, logits, r); break;
	case NN_TRANSFORMER: forward_transformer(m, n, logits, r); break;
	case NN_GRU:
	case NN_CNN:
	case NN_CNNGRU: nn_seq_forward(m->sq, &m->spec, m->p, m->xin, n, logits); break;
	}
	m->n = n;
	m->trained = r != NULL;
	m->have_fwd = 1;
}

/* ---- backward ---- */

static void backward_logreg(nn_model *m, const float *dl, float *dX, int pg)
{
	const nn_spec *s = &m->spec;
	float *W = m->p + m->lw[0];
	nn_op_linear(NN_BWD, m->n, s->n_in, s->n_out, m->xin, W, NULL, NULL, 0, dl, dX, 0,
		     pg ? m->g + m->lw[0] : NULL, pg ? m->g + m->lb[0] : NULL);
	if (pg && s->l2 > 0.0f) { /* d/dW 0.5 l2 |W|^2 */
		float *gw = m->g + m->lw[0];
		for (size_t i = 0; i < (size_t)s->n_in * s->n_out; i++)
			gw[i] += s->l2 * W[i];
	}
}

static void backward_mlp(nn_model *m, const float *dl, float *dX, int pg)
{
	const nn_spec *s = &m->spec;
	int n = m->n, L = s->n_hidden;
	float *cur = m->da, *other = m->db;
	nn_op_linear(NN_BWD, n, s->hidden[L - 1], s->n_out, m->act[L - 1], m->p + m->lw[L], NULL,
		     NULL, 0, dl, cur, 0, pg ? m->g + m->lw[L] : NULL, pg ? m->g + m->lb[L] : NULL);
	for (int i = L - 1; i >= 0; i--) {
		int h = s->hidden[i], w = i ? s->hidden[i - 1] : s->n_in;
		const float *a = i ? m->act[i - 1] : m->xin;
		nn_op_bias_relu_dropout(NN_BWD, n, h, m->act[i], NULL, m->trained ? m->mask[i] : NULL,
					cur, cur, pg ? m->g + m->lb[i] : NULL);
		float *dprev = i ? other : dX;
		nn_op_linear(NN_BWD, n, w, h, a, m->p + m->lw[i], NULL, NULL, 0, cur, dprev, 0,
			     pg ? m->g + m->lw[i] : NULL, NULL);
		float *t = cur;
		cur = other;
		other = t;
	}
}

static void backward_transformer(nn_model *m, const float *dl, float *dX, int pg)
{
	const nn_spec *s = &m->spec;
	int n = m->n, d = s->d_model, f = s->d_ffn, T = s->n_tokens + 1, H = s->n_heads;
	int B = s->n_blocks;
	float *p = m->p, *g = m->g;
#define G(off) (pg ? g + (off) : NULL)
	nn_op_linear(NN_BWD, n, d, s->n_out, m->hh, p + m->hw, NULL, NULL, 0, dl, m->dhh, 0,
		     G(m->hw), G(m->hb));
	/* dx holds dL/d(stream); for the last block's output that is the n CLS rows alone. */
	nn_op_layernorm(NN_BWD, n, d, m->xs[B], p + m->hlg, NULL, NULL, m->hmu, m->hrs, m->dhh,
			m->dx, 0, G(m->hlg), G(m->hlb));
	for (int b = B - 1; b >= 0; b--) {
		blk_par *bp = &m->bp[b];
		blk_act *a = &m->ba[b];
		int last = b == B - 1, R = last ? n : n * T;
		/* FFN branch: dx is dL/dx_out, which is also dL/dx_mid through the residual. */
		nn_op_linear(NN_BWD, R, f, d, a->f2, p + bp->w2, NULL, NULL, 0, m->dx, m->df, 0,
			     G(bp->w2), G(bp->b2));
		nn_op_dropout(NN_BWD, (size_t)R * f, s->dropout, NULL, m->trained ? a->fm : NULL,
			      NULL, NULL, m->df, m->df);
		nn_op_gelu(NN_BWD, (size_t)R * f, a->f1, NULL, m->df, m->df);
		nn_op_linear(NN_BWD, R, d, f, a->h2, p + bp->w1, NULL, NULL, 0, m->df, m->dh, 0,
			     G(bp->w1), G(bp->b1));
		nn_op_layernorm(NN_BWD, R, d, a->xm, p + bp->ln2g, NULL, NULL, a->mu2, a->rs2, m->dh,
				m->dx, 1, G(bp->ln2g), G(bp->ln2b));
		/* Attention branch: dx is now dL/dx_mid, also dL/dx_in through the residual. */
		nn_op_dropout(NN_BWD, (size_t)R * d, s->dropout, NULL, m->trained ? a->am : NULL,
			      NULL, NULL, m->dx, m->dh);
		if (last) {
			/* Projection of the CLS rows, then spread back over all n T rows: the
			 * other queries' outputs did not reach the loss. */
			nn_op_linear(NN_BWD, n, d, d, m->oc, p + bp->wo, NULL, NULL, 0, m->dh, m->dxc,
				     0, G(bp->wo), G(bp->bo));
			memset(m->dO, 0, (size_t)n * T * d * sizeof *m->dO);
			for (int r = 0; r < n; r++)
				memcpy(m->dO + (size_t)r * T * d, m->dxc + (size_t)r * d,
				       (size_t)d * sizeof *m->dO);
			memcpy(m->dxc, m->dx, (size_t)n * d * sizeof *m->dxc);
			memset(m->dx, 0, (size_t)n * T * d * sizeof *m->dx);
			for (int r = 0; r < n; r++)
				memcpy(m->dx + (size_t)r * T * d, m->dxc + (size_t)r * d,
				       (size_t)d * sizeof *m->dx);
		} else {
			nn_op_linear(NN_BWD, R, d, d, a->O, p + bp->wo, NULL, NULL, 0, m->dh, m->dO, 0,
				     G(bp->wo), G(bp->bo));
		}
		nn_op_attention(NN_BWD, n, T, d, H, a->qkv, a->P, NULL, m->dO, m->dqkv, m->scratch);
		nn_op_linear(NN_BWD, n * T, d, 3 * d, a->h1, p + bp->wqkv, NULL, NULL, 0, m->dqkv,
			     m->dh, 0, G(bp->wqkv), G(bp->bqkv));
		nn_op_layernorm(NN_BWD, n * T, d, m->xs[b], p + bp->ln1g, NULL, NULL, a->mu1, a->rs1,
				m->dh, m->dx, 1, G(bp->ln1g), G(bp->ln1b));
	}
	if (dX || pg)
		nn_op_tokens(NN_BWD, n, s->n_in, s->n_tokens, d, m->slot_token, m->xin, p + m->tokw,
			     NULL, NULL, NULL, m->dx, dX, G(m->tokw), G(m->tokb), G(m->cls));
#undef G
}

void nn_backward(nn_model *m, const float *dlogits, float *dX, int want_param_grads)
{
	if (!m->have_fwd) {
		fprintf(stderr, "lumen: internal error: nn_backward without a forward pass\n");
		abort();
	}
	switch (m->spec.arch) {
	case NN_LOGREG: backward_logreg(m, dlogits, dX, want_param_grads); break;
	case NN_MLP: backward_mlp(m, dlogits, dX, want_param_grads); break;
	case NN_TRANSFORMER: backward_transformer(m, dlogits, dX, want_param_grads); break;
	case NN_GRU:
	case NN_CNN:
	case NN_CNNGRU:
		nn_seq_backward(m->sq, &m->spec, m->p, want_param_grads ? m->g : NULL, m->xin,
				dlogits, dX);
		break;
	}
}

void nn_path_grad(nn_model *m, const float *X, const long *idx, long np, const float *base,
		  int steps, const double *alpha, const double *w, int out, float sign, float *G)
{
	if (np <= 0 || steps <= 0)
		return;
	if (m->spec.arch == NN_GRU) {
		nn_seq_path_grad(m->sq, &m->spec, m->p, X, idx, np, base, steps, alpha, w, out, sign,
				 G);
		m->have_fwd = 0; /* its own workspace: no forward for nn_backward to follow */
		return;
	}
	size_t ns = (size_t)m->spec.n_in, no = (size_t)m->spec.n_out, rows = (size_t)np * steps;
	size_t need = 2 * rows * ns + 2 * rows * no; /* kept: one chunk after another */
	if (need > m->pcap) {
		free(m->pws);
		m->pws = xmallocarray(need, sizeof *m->pws);
		m->pcap = need;
	}
	float *P = m->pws, *dX = P + rows * ns, *lg = dX + rows * ns, *dl = lg + rows * no;
	memset(dl, 0, rows * no * sizeof *dl);
	for (long q = 0; q < np; q++) {
		const float *x = X + (size_t)idx[q] * ns;
		for (int k = 0; k < steps; k++) {
			float a = (float)alpha[k], *r = P + ((size_t)q * steps + k) * ns;
			for (size_t j = 0; j < ns; j++)
				r[j] = base[j] + a * (x[j] - base[j]);
		}
	}
	nn_forward(m, P, (int)rows, lg, 0, NULL);
	for (size_t r = 0; r < rows; r++)
		dl[r * no + (size_t)out] = sign;
	nn_backward(m, dl, dX, 0);
	double *acc = xmallocarray(ns, sizeof *acc);
	for (long q = 0; q < np; q++) {
		for (size_t j = 0; j < ns; j++)
			acc[j] = 0.0;
		for (int k = 0; k < steps; k++) {
			const float *g = dX + ((size_t)q * steps + k) * ns;
			for (size_t j = 0; j < ns; j++)
				acc[j] += w[k] * (double)g[j];
		}
		for (size_t j = 0; j < ns; j++)
			G[(size_t)q * ns + j] = (float)acc[j];
	}
	free(acc);
}

const float *nn_visit_attention(const nn_model *m)
{
	if (!m->have_fwd || (m->spec.arch != NN_GRU && m->spec.arch != NN_CNNGRU))
		return NULL;
	return nn_seq_attention(m->sq, &m->spec);
}

const float *nn_attention(const nn_model *m, int block)
{
	if (m->spec.arch != NN_TRANSFORMER || !m->have_fwd || block < 0 ||
	    block >= m->spec.n_blocks)
		return NULL;
	return m->ba[block].P;
}

double nn_loss(const nn_model *m, const float *logits, const float *y, int n,
	       const float *class_weight, float *dlogits)
{
	if (n <= 0)
		return 0.0;
	const nn_spec *s = &m->spec;
	float scale = 1.0f / (float)n;
	double sum = s->n_out == 1
			     ? nn_op_bce(n, logits, y, class_weight, scale, dlogits)
			     : nn_op_softmax_ce(n, s->n_out, logits, y, class_weight, scale, dlogits);
	double loss = sum / n;
	if (s->arch == NN_LOGREG && s->l2 > 0.0f) {
		const float *W = m->p + m->lw[0];
		double w2 = 0.0;
		for (size_t i = 0; i < (size_t)s->n_in * s->n_out; i++)
			w2 += (double)W[i] * (double)W[i];
		loss += 0.5 * (double)s->l2 * w2;
	}
	return loss;
}

void nn_logits(nn_model *m, const float *X, long n, float *logits)
{
	/* A transformer row keeps ~T * 1.6k floats of activations: chunks of 64 rows stay in the
	 * caches, where 1024 rows would stream hundreds of megabytes through memory. */
	const long chunk = m->spec.arch == NN_TRANSFORMER ? 64 : m->spec.arch >= NN_GRU ? 256 : 1024;
	size_t C = (size_t)m->spec.n_out, n_in = (size_t)m->spec.n_in;
	for (long i = 0; i < n; i += chunk) {
		int k = (int)(n - i < chunk ? n - i : chunk);
		nn_forward(m, X + (size_t)i * n_in, k, logits + (size_t)i * C, 0, NULL);
	}
}

void nn_probs(const float *z, long n, int C, double *p)
{
	for (long i = 0; i < n; i++) {
		const float *zi = z + (size_t)i * (size_t)C;
		double *pi = p + (size_t)i * (size_t)C;
		if (C == 1) {
			pi[0] = 1.0 / (1.0 + exp(-(double)zi[0]));
			continue;
		}
		/* softmax, shifted by the largest logit so that exp cannot overflow */
		double mx = zi[0], sum = 0;
		for (int c = 1; c < C; c++)
			if ((double)zi[c] > mx)
				mx = zi[c];
		for (int c = 0; c < C; c++)
			sum += (pi[c] = exp((double)zi[c] - mx));
		for (int c = 0; c < C; c++)
			pi[c] /= sum;
	}
}

void nn_predict(nn_model *m, const float *X, int n, float *out)
{
	int C = m->spec.n_out;
	nn_logits(m, X, n, out);
	for (int r = 0; r < n; r++) {
		if (C == 1)
			out[r] = 1.0f / (1.0f + expf(-out[r]));
		else
			nn_softmax_row(out + (size_t)r * C, C);
	}
}

/* Central difference of the loss in one float, in double: the step actually taken is what
 * the float can represent, so the quotient uses that step. */
static double numeric_grad(nn_model *m, float *v, const float *X, const float *y, int n,
			   double eps, float *logits)
{
	float save = *v;
	float up = (float)((double)save + eps), dn = (float)((double)save - eps);
	*v = up;
	nn_forward(m, X, n, logits, 0, NULL);
	double lu = nn_loss(m, logits, y, n, NULL, NULL);
	*v = dn;
	nn_forward(m, X, n, logits, 0, NULL);
	double ld = nn_loss(m, logits, y, n, NULL, NULL);
	*v = save;
	return (lu - ld) / ((double)up - (double)dn);
}

static double rel_err(double a, double b)
{
	double den = fabs(a) + fabs(b);
	return fabs(a - b) / (den > 1e-3 ? den : 1e-3);
}

double nn_check_grad(nn_model *m, const float *X, const float *y, int n, double eps)
{
	const nn_spec *s = &m->spec;
	size_t nx = (size_t)n * s->n_in;
	float *logits = xmallocarray((size_t)n * s->n_out, sizeof *logits);
	float *dl = xmallocarray((size_t)n * s->n_out, sizeof *dl);
	float *dX = xmallocarray(nx, sizeof *dX);
	float *Xc = xmallocarray(nx, sizeof *Xc);
	float *ga = xmallocarray(m->np, sizeof *ga);
	memcpy(Xc, X, nx * sizeof *Xc);
	nn_zero_grad(m);
	nn_forward(m, Xc, n, logits, 0, NULL);
	nn_loss(m, logits, y, n, NULL, dl);
	nn_backward(m, dl, dX, 1);
	memcpy(ga, m->g, m->np * sizeof *ga);
	double worst = 0.0;
	for (size_t i = 0; i < m->np; i++) {
		double e = rel_err((double)ga[i], numeric_grad(m, &m->p[i], Xc, y, n, eps, logits));
		worst = e > worst ? e : worst;
	}
	for (size_t i = 0; i < nx; i++) {
		double e = rel_err((double)dX[i], numeric_grad(m, &Xc[i], Xc, y, n, eps, logits));
		worst = e > worst ? e : worst;
	}
	free(logits);
	free(dl);
	free(dX);
	free(Xc);
	free(ga);
	return worst;
}
