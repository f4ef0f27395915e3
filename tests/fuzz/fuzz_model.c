/* libFuzzer target for the model loader: the bytes are an ONNX file.
 * Corrupt and truncated protobufs, absurd or negative dims, dangling
 * inputs, cycles and huge declared sizes must give a clear error (a
 * non-empty message) and never a crash, a leak or an allocation the input
 * does not justify. A model that loads is also run once when its inputs
 * are static and small, so inference, planning and the operators see the
 * same hostile shapes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/hwrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RUN_MAX_BYTES (1u << 20)

static void try_run(const struct hwrt_model *m)
{
	size_t ni = hwrt_model_n_inputs(m), no = hwrt_model_n_outputs(m);
	struct hwrt_tensor in[8], out[8];
	void *bufs[8] = { 0 };
	if (ni > 8 || no > 8)
		return;
	size_t total = 0;
	for (size_t i = 0; i < ni; i++) {
		const struct hwrt_io_info *info = hwrt_model_input(m, i);
		memset(&in[i], 0, sizeof(in[i]));
		in[i].dtype = info->dtype;
		in[i].rank = info->rank;
		size_t count = 1;
		for (int d = 0; d < info->rank; d++) {
			int64_t v = info->dims[d] < 0 ? 1 : info->dims[d];
			if (v > RUN_MAX_BYTES)
				goto out;
			in[i].dims[d] = v;
			count *= (size_t)v;
			if (count > RUN_MAX_BYTES)
				goto out;
		}
		size_t bytes = count * hwrt_dtype_size(info->dtype);
		total += bytes;
		if (total > RUN_MAX_BYTES)
			goto out;
		bufs[i] = calloc(1, bytes + 1);
		if (!bufs[i])
			goto out;
		in[i].data = bufs[i];
	}
	struct hwrt_session *s = hwrt_session_create(m);
	if (s) {
		char err[256];
		err[0] = 0;
		if (hwrt_run(s, in, ni, out, no, NULL, err, sizeof(err)) < 0 && !err[0])
			abort(); /* a failure must say why */
		hwrt_session_free(s);
	}
out:
	for (size_t i = 0; i < ni; i++)
		free(bufs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	err[0] = 0;
	/* The daemon bounds a run's memory the same way. The precision varies
	 * with the input so the reduced-precision packing and the load-time
	 * accuracy check see hostile models too; none is refused for accuracy. */
	struct hwrt_options opt = { .max_arena_bytes = (size_t)256 << 20,
				    .precision = (enum hwrt_precision)(size % 4),
				    .min_cosine = -1.0 };
	struct hwrt_model *m = hwrt_model_load_buffer(data, size, NULL, &opt, err, sizeof(err));
	if (!m) {
		if (!err[0])
			abort();
		return 0;
	}
	try_run(m);
	hwrt_model_free(m);
	return 0;
}
