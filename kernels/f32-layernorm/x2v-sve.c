/* f32 layer normalization and RMS normalization of a row, sve. */
#if !defined(__ARM_FEATURE_SVE)
#error "this file needs sve (see ISA_FLAGS_sve in the Makefile)"
#endif

#include "kernels/vmath/sve.h"

#define LN_TILE x2v
#define LN_ISA sve
#include "kernels/f32-layernorm/template.h"
