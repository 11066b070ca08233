/* nn_internal.h: what nn.c shares with train.c (not part of the engine's contract). */
#ifndef LUMEN_NN_INTERNAL_H
#define LUMEN_NN_INTERNAL_H

#include "nn.h"

/* True when weight decay applies to tensor i: weight matrices (rank 2), not biases, layer-norm
 * gains, the CLS vector or token biases. */
int nn_tensor_decays(const nn_model *m, int i);
/* Offset of tensor i in the flat buffers. */
size_t nn_tensor_offset(const nn_model *m, int i);

/* Initialisations of nn_add_tensor. */
enum { NN_INIT_ZERO, NN_INIT_ONE, NN_INIT_KAIMING, NN_INIT_UNIFORM };
/* Appends a tensor to m's layout (rank 1: d0; rank 2: d0 x d1); returns its offset. Only
 * during nn_create's layout. */
size_t nn_add_tensor(nn_model *m, const char *name, int rank, int d0, int d1, int init,
		     float bound);

#endif
