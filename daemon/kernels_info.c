#include "kernels_info.h"

#include <stdlib.h>

#include "kernels/hwk.h"

int kernels_init(char *err, size_t errlen)
{
	return hwk_init(err, errlen);
}

cJSON *kernels_json(void)
{
	cJSON *k = cJSON_CreateObject();
	cJSON *ops = cJSON_CreateArray();
	const char *forced = getenv("HWK_ISA");
	if (!k || !ops)
		goto fail;
	cJSON_AddItemToObject(k, "ops", ops);
	if (!cJSON_AddStringToObject(k, "isa", hwk_isa_name(hwk_isa_ceiling())) ||
	    !cJSON_AddStringToObject(k, "best_isa", hwk_isa_name(hwk_isa_best())) ||
	    !cJSON_AddBoolToObject(k, "forced", forced && *forced))
		return cJSON_Delete(k), NULL;
	struct hwk_op *const *all;
	size_t n = hwk_ops(&all);
	for (size_t i = 0; i < n; i++) {
		const struct hwk_variant *v = hwk_op_variant(all[i]);
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(ops, o) ||
		    !cJSON_AddStringToObject(o, "op", all[i]->name) ||
		    !cJSON_AddStringToObject(o, "variant", v->name) ||
		    !cJSON_AddStringToObject(o, "isa", hwk_isa_name(v->isa)))
			return cJSON_Delete(k), NULL;
	}
	return k;
fail:
	cJSON_Delete(ops);
	cJSON_Delete(k);
	return NULL;
}
