/* What libhwk chose on this machine, for `topology`. */
#ifndef HWOPTD_KERNELS_INFO_H
#define HWOPTD_KERNELS_INFO_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Initializes libhwk (HWK_ISA); 0, or negative with err filled. */
int kernels_init(char *err, size_t errlen);

/* {isa, best_isa, forced, ops: [{op, variant, isa}]}; NULL on OOM. */
cJSON *kernels_json(void);

#endif
