/* Decoding an ONNX model into a graph. */
#ifndef HWRT_LOAD_H
#define HWRT_LOAD_H

#include "runtime/graph.h"

/* Fills g (zeroed) from the model bytes; g->opset set. */
int rt_load_graph(struct rt_graph *g, const void *buf, size_t len, const char *base_dir,
		  struct rt_err *e);
/* Reads a whole file of at most max bytes; *buf is malloc'ed. */
int rt_read_file(const char *path, void **buf, size_t *len, size_t max, struct rt_err *e);

#endif
