/* f32 softmax and log-softmax of a row, sve. */
#if !defined(__ARM_FEATURE_SVE)
#error "this file needs sve (see ISA_FLAGS_sve in the Makefile)"
#endif

#include "kernels/vmath/sve.h"

#define SM_TILE x2v
#define SM_ISA sve
#include "kernels/f32-softmax/template.h"
