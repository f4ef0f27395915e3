/* f32 layer normalization and RMS normalization of a row, neon. */
#if !defined(__ARM_NEON)
#error "this file needs neon (see ISA_FLAGS_neon in the Makefile)"
#endif

#include "kernels/vmath/neon.h"

#define LN_TILE x8
#define LN_ISA neon
#include "kernels/f32-layernorm/template.h"
