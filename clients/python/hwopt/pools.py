"""Shared-memory pools (docs/protocol.md, pool.*).

A pool is a memfd the daemon creates and passes once; both sides map it,
so tensors in it cross the socket as a {pool, offset} reference instead of
as JSON. Blocks inside it are allocated by the daemon (pool.alloc), which
checks every reference against a live block: a Block here is only a
(pool, offset, size) handle plus helpers to fill and read it through the
mapping.
"""

import mmap
import os
import weakref

from . import tensors


def _release(mm, fd):
    """Unmaps and closes; run once, explicitly or when the Pool is collected."""
    try:
        mm.close()
    except BufferError:
        # numpy views (Block.view) still use the mapping: it is unmapped when
        # the last of them goes away.
        pass
    try:
        os.close(fd)
    except OSError:
        pass


class Pool:
    """A pool mapped into this process (Client.create_pool makes them).

    id, size (bytes, rounded up to the page size), page_kind ("hugetlb",
    "thp", "normal"), page_size, numa_node, fd (the memfd, owned by the
    Pool), mmap (the MAP_SHARED read-write mapping), info (the pool.create
    result). Used as a context manager it is destroyed on exit.
    """

    def __init__(self, client, info, fd):
        if not isinstance(fd, int) or isinstance(fd, bool):
            raise TypeError("pool.create gave no descriptor")
        self.client = client
        self.info = dict(info)
        self.id = info["pool"]
        self.size = int(info["bytes"])
        self.page_kind = info.get("page_kind")
        self.page_size = info.get("page_size")
        self.numa_node = info.get("numa_node")
        self.fd = fd
        self.mmap = mmap.mmap(fd, self.size, flags=mmap.MAP_SHARED,
                              prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self._finalizer = weakref.finalize(self, _release, self.mmap, fd)

    @property
    def closed(self):
        """True once the mapping and descriptor are released."""
        return not self._finalizer.alive

    def _call(self, method, **params):
        if self.closed:
            raise ValueError("pool %r is closed" % (self.id,))
        return self.client.call(method, pool=self.id, **params)

    def alloc(self, nbytes):
        """A new Block of at least nbytes (the daemon rounds up to 64)."""
        r = self._call("pool.alloc", bytes=int(nbytes))
        return Block(self, r["offset"], r["bytes"])

    def free(self, block_or_offset):
        """Frees a block (a Block or its offset)."""
        offset = block_or_offset.offset if isinstance(block_or_offset, Block) else block_or_offset
        return self._call("pool.free", offset=offset)

    def stats(self):
        """This pool's pool.list entry (used, peak, free, fragmentation...)."""
        if self.closed:
            raise ValueError("pool %r is closed" % (self.id,))
        for entry in self.client.pools(all=False):
            if entry.get("pool") == self.id:
                return entry
        raise LookupError("pool %r is not in pool.list" % (self.id,))

    def destroy(self):
        """Destroys the pool in the daemon (pool.destroy; jobs still using it
        keep its memory until they end) and releases the mapping and
        descriptor here. Returns the pool.destroy result, or None when the
        connection is already closed (the daemon destroyed it then)."""
        if self.closed:
            return None
        result = None
        try:
            if not self.client.closed:
                result = self.client.call("pool.destroy", pool=self.id)
        finally:
            self.close()
        return result

    def close(self):
        """Releases the mapping and descriptor here only, without telling
        the daemon (destroy() does both)."""
        self._finalizer()

    def read_at(self, offset, dtype, shape):
        """A copy of the tensor at offset: numpy array, or Tensor without numpy."""
        if self.closed:
            raise ValueError("pool %r is closed" % (self.id,))
        return tensors.from_bytes(dtype, shape, self.mmap, offset)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()

    def __repr__(self):
        return "<hwopt.Pool %r %d bytes %s%s>" % (self.id, self.size, self.page_kind,
                                                  " closed" if self.closed else "")


class Block:
    """A block the daemon allocated in a pool: pool, offset, size (bytes)."""

    __slots__ = ("pool", "offset", "size")

    def __init__(self, pool, offset, size):
        self.pool = pool
        self.offset = int(offset)
        self.size = int(size)

    def _fits(self, n, what):
        if n > self.size:
            raise ValueError("%s needs %d bytes; block at offset %d holds %d"
                             % (what, n, self.offset, self.size))

    def ref(self, dtype, shape):
        """A pool-reference TENSOR for an infer input: the bytes at this
        block's start, read as dtype and shape."""
        name = tensors.dtype_name(dtype)
        shape = list(shape)
        self._fits(tensors.nbytes(name, shape), "%s%s" % (name, shape))
        return {"pool": self.pool.id, "offset": self.offset, "dtype": name, "shape": shape}

    def out_ref(self, nbytes=None):
        """A POOLREF for an infer output. Without nbytes the daemon may use
        the whole block (its default: to the end of the block)."""
        ref = {"pool": self.pool.id, "offset": self.offset}
        if nbytes is not None:
            self._fits(nbytes, "the output room")
            ref["bytes"] = int(nbytes)
        return ref

    def write(self, value, dtype=None, shape=None, offset=0):
        """Copies a tensor's bytes into the block at offset (from its start):
        a numpy array (converted to dtype when given), a hwopt.Tensor, raw
        bytes, or a list with dtype. Returns the number of bytes written."""
        if isinstance(value, (bytes, bytearray, memoryview)) and dtype is None:
            data = memoryview(value).cast("B")
        else:
            _, _, data = tensors.to_bytes(value, dtype, shape)
            data = memoryview(data).cast("B")
        if offset < 0:
            raise ValueError("negative offset")
        self._fits(offset + len(data), "writing %d bytes at %d" % (len(data), offset))
        start = self.offset + offset
        self.pool.mmap[start:start + len(data)] = data
        return len(data)

    def read(self, dtype=None, shape=None):
        """A copy of the block's contents: as dtype and shape (a numpy array,
        or a hwopt.Tensor without numpy — its .data is the bytes), or, with
        no dtype, the whole block as bytes."""
        if dtype is None:
            return self.pool.mmap[self.offset:self.offset + self.size]
        if shape is None:
            raise ValueError("read(dtype) needs a shape")
        self._fits(tensors.nbytes(dtype, shape), "%s%s" % (tensors.dtype_name(dtype), list(shape)))
        return self.pool.read_at(self.offset, dtype, shape)

    def view(self, dtype, shape):
        """A numpy array that *is* the block's memory (no copy): fill inputs
        in place, or read outputs without copying. Requires numpy; bfloat16
        has no numpy dtype, so view its bits as "uint16"."""
        np = tensors.np
        if np is None:
            raise RuntimeError("Block.view needs numpy; use write() and read()")
        dt = tensors.DTYPES[tensors.dtype_name(dtype)]
        if dt.name == "bfloat16":
            raise TypeError("bfloat16 has no numpy dtype: view(\"uint16\", shape) gives its bits")
        self._fits(tensors.nbytes(dt.name, shape), "%s%s" % (dt.name, list(shape)))
        count = tensors.element_count(shape)
        return np.frombuffer(self.pool.mmap, dtype=dt.np_str, count=count,
                             offset=self.offset).reshape(list(shape))

    def free(self):
        """Frees this block in the daemon."""
        return self.pool.free(self)

    def __repr__(self):
        return "<hwopt.Block pool=%r offset=%d size=%d>" % (self.pool.id, self.offset, self.size)
