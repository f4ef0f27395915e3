/* f32 softmax and log-softmax of a row, neon. */
#if !defined(__ARM_NEON)
#error "this file needs neon (see ISA_FLAGS_neon in the Makefile)"
#endif

#include "kernels/vmath/neon.h"

#define SM_TILE x8
#define SM_ISA neon
#include "kernels/f32-softmax/template.h"
