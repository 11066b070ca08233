/* nn_internal.h: what nn.c shares with train.c (not part of the engine's contract). */
#ifndef LUMEN_NN_INTERNAL_H
#define LUMEN_NN_INTERNAL_H

#include "nn.h"

/* True when weight decay applies to tensor i: weight matrices (rank 2), not biases, layer-norm
 * gains, the CLS vector or token biases. */
int nn_tensor_decays(const nn_model *m, int i);
/* Offset of tensor i in the flat buffers. */
size_t nn_tensor_offset(const nn_model *m, int i);

#endif
