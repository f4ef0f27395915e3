/* ONNX TensorProto to runtime tensors: for initializers, Constant
 * attributes and .pb input files. */
#ifndef HWRT_TENSORPROTO_H
#define HWRT_TENSORPROTO_H

#include "onnx.pb-c.h"
#include "runtime/graph.h"

/* Decodes tp into *out. Raw bytes are taken from the message without a
 * copy when possible (tp's buffer is detached); external data is mapped
 * from a file under base_dir, recorded in g's mappings. *owned receives the
 * allocation behind out->data (NULL when mapped). */
int rt_tensor_from_proto(Onnx__TensorProto *tp, const char *base_dir, struct rt_graph *g,
			 struct hwrt_tensor *out, void **owned, struct rt_err *e);

#endif
