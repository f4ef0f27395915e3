"""TENSOR encoding and decoding (docs/protocol.md, "Tensors").

A TENSOR travels as a JSON object: ``{dtype, shape, data}`` (a flat list,
row-major), ``{dtype, shape, data_b64}`` (raw little-endian bytes, standard
base64) or, for inputs, a pool reference (see pools.py).

numpy is used when it can be imported and is never required: without it a
decoded tensor is a small :class:`Tensor` holding the raw little-endian
bytes. Every other module asks this one (``tensors.np``) whether numpy is
there, so tests can simulate its absence by setting ``tensors.np = None``;
``HWOPT_NO_NUMPY=1`` in the environment does the same at import.

bfloat16 has no numpy dtype: it is decoded to float32 (exact, every
bfloat16 is a float32), and encoded from a floating array by rounding to
nearest even, or from a uint16 array taken as the raw bit patterns.
"""

import base64
import binascii
import math
import os
import struct

if os.environ.get("HWOPT_NO_NUMPY"):
    np = None
else:
    try:
        import numpy as np
    except ImportError:  # numpy is optional
        np = None

__all__ = ["DTYPES", "Tensor", "tensor", "decode", "from_bytes", "to_bytes",
           "dtype_name", "itemsize", "element_count", "nbytes", "have_numpy"]


def have_numpy():
    """True when numpy is in use (importable and not disabled)."""
    return np is not None


class _DType:
    """What the client needs to know about one protocol dtype."""

    __slots__ = ("name", "itemsize", "fmt", "np_str", "is_float")

    def __init__(self, name, itemsize, fmt, np_str, is_float=False):
        self.name = name          # the protocol's (ONNX's) name
        self.itemsize = itemsize  # bytes per element
        self.fmt = fmt            # struct format character (bfloat16: its bits)
        self.np_str = np_str      # little-endian numpy dtype string (bfloat16: bits)
        self.is_float = is_float

    def __repr__(self):
        return "<dtype %s>" % self.name


DTYPES = {d.name: d for d in (
    _DType("float", 4, "f", "<f4", True),
    _DType("uint8", 1, "B", "|u1"),
    _DType("int8", 1, "b", "|i1"),
    _DType("uint16", 2, "H", "<u2"),
    _DType("int16", 2, "h", "<i2"),
    _DType("int32", 4, "i", "<i4"),
    _DType("int64", 8, "q", "<i8"),
    _DType("bool", 1, "?", "|b1"),
    _DType("float16", 2, "e", "<f2", True),
    _DType("double", 8, "d", "<f8", True),
    _DType("uint32", 4, "I", "<u4"),
    _DType("uint64", 8, "Q", "<u8"),
    _DType("bfloat16", 2, "H", "<u2", True),
)}

# Names the daemon accepts besides the canonical ones ("float32"), plus the
# obvious numpy spelling of double, so callers need not remember ONNX's.
_ALIASES = {"float32": "float", "float64": "double"}

# numpy (kind, itemsize) -> protocol name.
_NP_KINDS = {
    ("f", 2): "float16", ("f", 4): "float", ("f", 8): "double",
    ("i", 1): "int8", ("i", 2): "int16", ("i", 4): "int32", ("i", 8): "int64",
    ("u", 1): "uint8", ("u", 2): "uint16", ("u", 4): "uint32", ("u", 8): "uint64",
    ("b", 1): "bool",
}

_SPECIAL_IN = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _dtype(dtype):
    """The _DType for a protocol name, an alias, or a numpy dtype."""
    if isinstance(dtype, _DType):
        return dtype
    if isinstance(dtype, str):
        name = _ALIASES.get(dtype, dtype)
        if name in DTYPES:
            return DTYPES[name]
        if np is None:
            raise ValueError("unknown dtype %r (one of: %s)" % (dtype, ", ".join(DTYPES)))
    if np is not None:
        try:
            npd = np.dtype(dtype)
        except TypeError:
            raise ValueError("unknown dtype %r" % (dtype,)) from None
        return DTYPES[_np_dtype_name(npd)]
    raise ValueError("unknown dtype %r" % (dtype,))


def _np_dtype_name(npd):
    if npd.name == "bfloat16" and npd.itemsize == 2:  # ml_dtypes, when present
        return "bfloat16"
    name = _NP_KINDS.get((npd.kind, npd.itemsize))
    if name is None:
        raise ValueError("numpy dtype %s has no protocol dtype (one of: %s)"
                         % (npd, ", ".join(DTYPES)))
    return name


def dtype_name(dtype):
    """The protocol's name for dtype (a name, an alias such as "float32",
    or a numpy dtype)."""
    return _dtype(dtype).name


def itemsize(dtype):
    """Bytes per element of dtype."""
    return _dtype(dtype).itemsize


def _shape(shape):
    """shape as a list of non-negative ints, refusing what the daemon would."""
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise ValueError("shape must be a sequence of non-negative integers, not %r" % (shape,))
    out = []
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, int):
            if np is not None and isinstance(d, np.integer):
                d = int(d)
            else:
                raise ValueError("shape %r: dimension %r is not an integer" % (shape, d))
        if d < 0:
            raise ValueError("shape %r: dimension %d is negative" % (shape, d))
        out.append(d)
    return out


def element_count(shape):
    """Elements in a tensor of this shape (1 for [], a scalar)."""
    n = 1
    for d in _shape(shape):
        n *= d
    return n


def nbytes(dtype, shape):
    """Bytes a tensor of dtype and shape occupies."""
    return element_count(shape) * _dtype(dtype).itemsize


# --- plain-Python conversions between values and bytes -------------------------


def _bf16_bits(x):
    """bfloat16 bit pattern of a float, rounding to nearest even (via
    float32, as numpy code commonly does)."""
    if math.isnan(x):
        return 0x7FC0 | (0x8000 if math.copysign(1.0, x) < 0 else 0)
    try:
        (u,) = struct.unpack("<I", struct.pack("<f", x))
    except OverflowError:
        return 0xFF80 if x < 0 else 0x7F80
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF


def _clean_value(dt, v):
    """One list element made packable, or ValueError naming what is wrong."""
    if dt.name == "bool":
        if v is True or v is False or (type(v) in (int, float) and v in (0, 1)):
            return bool(v)
        raise ValueError("bool tensor: %r is not true/false or 0/1" % (v,))
    if dt.is_float:
        if isinstance(v, str):
            if v in _SPECIAL_IN:
                return _SPECIAL_IN[v]
            raise ValueError("%s tensor: string %r is not NaN, Infinity or -Infinity" % (dt.name, v))
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        raise ValueError("%s tensor: %r is not a number" % (dt.name, v))
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError("%s tensor: %r is not an integer" % (dt.name, v))
    return v


def _pack(dt, values):
    """Flat list of values -> little-endian bytes. Tries struct first (the
    common, fast case) and cleans element by element only when it fails, so
    errors name the offending value."""
    n = len(values)
    if dt.name == "bfloat16":
        values = [_bf16_bits(_clean_value(dt, v)) for v in values]
        return struct.pack("<%dH" % n, *values)
    if dt.name != "bool":
        try:
            return struct.pack("<%d%s" % (n, dt.fmt), *values)
        except (struct.error, TypeError, OverflowError):
            pass
    values = [_clean_value(dt, v) for v in values]
    try:
        return struct.pack("<%d%s" % (n, dt.fmt), *values)
    except (struct.error, OverflowError) as e:
        raise ValueError("%s tensor: value out of range (%s)" % (dt.name, e)) from None


def _unpack(dt, data):
    """Little-endian bytes -> flat list of Python values (bfloat16: floats)."""
    n = len(data) // dt.itemsize
    if dt.name == "bfloat16":
        bits = struct.unpack("<%dH" % n, data)
        return list(struct.unpack("<%df" % n, struct.pack("<%dI" % n, *[b << 16 for b in bits])))
    return list(struct.unpack("<%d%s" % (n, dt.fmt), data))


def _json_values(dt, values):
    """Values ready for json.dumps(allow_nan=False): JSON has no NaN or
    infinities, so the protocol spells them as strings."""
    if dt.is_float and not all(map(math.isfinite, values)):
        return [v if math.isfinite(v) else ("NaN" if math.isnan(v) else
                                             ("Infinity" if v > 0 else "-Infinity"))
                for v in values]
    return values


def _flatten(values):
    """A nested list flattened row-major, with the shape it implies."""
    shape = []
    probe = values
    while isinstance(probe, (list, tuple)):
        shape.append(len(probe))
        probe = probe[0] if probe else None
    flat = values
    for _ in range(len(shape) - 1):
        flat = [x for row in flat for x in row]
    return list(flat), shape


# --- the Tensor value ----------------------------------------------------------


class Tensor:
    """A tensor as raw little-endian bytes: what decoding yields without
    numpy, and a way to send bytes you already have.

    ``dtype`` is the protocol name, ``shape`` a list, ``data`` bytes of
    exactly element_count(shape) * itemsize(dtype). bytes(t) gives data.
    """

    __slots__ = ("dtype", "shape", "data")

    def __init__(self, dtype, shape, data):
        dt = _dtype(dtype)
        shape = _shape(shape)
        data = bytes(data)
        want = element_count(shape) * dt.itemsize
        if len(data) != want:
            raise ValueError("%s%s needs %d bytes, got %d" % (dt.name, shape, want, len(data)))
        self.dtype = dt.name
        self.shape = shape
        self.data = data

    @classmethod
    def from_list(cls, values, dtype, shape=None):
        """From a (flat or nested) list of Python values. shape defaults to
        the nesting; floats may be the strings "NaN", "Infinity", "-Infinity"."""
        dt = _dtype(dtype)
        flat, implied = _flatten(values)
        shape = implied if shape is None else _shape(shape)
        if len(flat) != element_count(shape):
            raise ValueError("%d values do not fill shape %s" % (len(flat), shape))
        return cls(dt, shape, _pack(dt, flat))

    @property
    def nbytes(self):
        return len(self.data)

    @property
    def size(self):
        """Number of elements."""
        return element_count(self.shape)

    def tolist(self):
        """The elements as a flat row-major list of Python values (floats
        may be nan/inf; bool as True/False; bfloat16 as floats)."""
        return _unpack(DTYPES[self.dtype], self.data)

    def numpy(self):
        """The same tensor as a numpy array (requires numpy)."""
        if np is None:
            raise RuntimeError("numpy is not available")
        return _np_from_bytes(DTYPES[self.dtype], self.shape, self.data)

    def to_dict(self, encoding="base64"):
        """The inline TENSOR object for a request."""
        return _encode(DTYPES[self.dtype], self.shape, self.data, encoding)

    def __bytes__(self):
        return self.data

    def __eq__(self, other):
        if not isinstance(other, Tensor):
            return NotImplemented
        return (self.dtype, self.shape, self.data) == (other.dtype, other.shape, other.data)

    def __repr__(self):
        vals = self.tolist()
        shown = ", ".join(repr(v) for v in vals[:8]) + (", ..." if len(vals) > 8 else "")
        return "Tensor(%s, %s, [%s])" % (self.dtype, self.shape, shown)


# --- numpy conversions ---------------------------------------------------------


def _np_from_bytes(dt, shape, data, offset=0):
    """A writable, native-order numpy array copied from little-endian bytes
    (any buffer: bytes, mmap), starting at offset."""
    count = element_count(shape)
    if dt.name == "bfloat16":
        bits = np.frombuffer(data, dtype="<u2", count=count, offset=offset)
        return (bits.astype(np.uint32) << 16).view(np.float32).reshape(shape)
    arr = np.frombuffer(data, dtype=dt.np_str, count=count, offset=offset)
    return arr.astype(arr.dtype.newbyteorder("="), copy=True).reshape(shape)


def _np_to_bf16_bits(arr):
    """Float array -> uint16 bfloat16 bit patterns, nearest even."""
    f = np.asarray(arr, dtype=np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    bits = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(f)
    if nan.any():
        bits[nan] = (0x7FC0 | ((f.view(np.uint32)[nan] >> 16) & 0x8000)).astype(np.uint16)
    return bits


def _np_prepare(arr, dtype):
    """(dt, C-contiguous little-endian array) for an array and an optional
    protocol dtype; converts when the dtype differs."""
    arr = np.asarray(arr)
    dt = _dtype(dtype) if dtype is not None else DTYPES[_np_dtype_name(arr.dtype)]
    if dt.name == "bfloat16":
        if arr.dtype.name == "bfloat16" and arr.dtype.itemsize == 2:
            arr = arr.view(np.uint16)
        elif arr.dtype.kind != "u" or arr.dtype.itemsize != 2:
            arr = _np_to_bf16_bits(arr)  # uint16 arrays are taken as the bits already
    # astype(order="C") copies only when needed, and keeps 0-d arrays 0-d
    # (np.ascontiguousarray would make them 1-d).
    return dt, arr.astype(dt.np_str, order="C", copy=False)


# --- public encoding and decoding ---------------------------------------------


def _encode(dt, shape, data, encoding):
    if encoding == "base64":
        return {"dtype": dt.name, "shape": list(shape),
                "data_b64": base64.b64encode(data).decode("ascii")}
    if encoding == "list":
        return {"dtype": dt.name, "shape": list(shape),
                "data": _json_values(dt, _unpack(dt, data))}
    raise ValueError("encoding must be 'base64' or 'list', not %r" % (encoding,))


def to_bytes(value, dtype=None, shape=None):
    """(dtype name, shape, little-endian bytes-like) for anything tensor():
    accepts. The bytes may be a memoryview of a numpy array (no copy)."""
    if isinstance(value, Tensor):
        if dtype is not None and dtype_name(dtype) != value.dtype:
            raise ValueError("Tensor is %s, not %s" % (value.dtype, dtype_name(dtype)))
        shape = value.shape if shape is None else _shape(shape)
        if element_count(shape) != value.size:
            raise ValueError("shape %s does not hold %d elements" % (shape, value.size))
        return value.dtype, shape, value.data
    if np is not None and isinstance(value, (np.ndarray, np.generic)):
        dt, arr = _np_prepare(value, dtype)
        if shape is None:
            shape = list(arr.shape)
        else:
            shape = _shape(shape)
            if element_count(shape) != arr.size:
                raise ValueError("shape %s does not hold the array's %d elements" % (shape, arr.size))
        return dt.name, shape, memoryview(arr.reshape(-1).view(np.uint8))
    if isinstance(value, (bytes, bytearray, memoryview)):
        if dtype is None:
            raise ValueError("raw bytes need a dtype (and a shape, default 1-D)")
        dt = _dtype(dtype)
        mv = memoryview(value).cast("B")
        if shape is None:
            if len(mv) % dt.itemsize:
                raise ValueError("%d bytes are not a whole number of %s" % (len(mv), dt.name))
            shape = [len(mv) // dt.itemsize]
        shape = _shape(shape)
        if len(mv) != element_count(shape) * dt.itemsize:
            raise ValueError("%s%s needs %d bytes, got %d"
                             % (dt.name, shape, element_count(shape) * dt.itemsize, len(mv)))
        return dt.name, shape, mv
    if isinstance(value, (list, tuple)):
        if dtype is None:
            raise ValueError("a Python list needs a dtype")
        t = Tensor.from_list(value, dtype, shape)
        return t.dtype, t.shape, t.data
    if isinstance(value, (bool, int, float)):
        if dtype is None:
            raise ValueError("a Python scalar needs a dtype")
        t = Tensor.from_list([value], dtype, [] if shape is None else shape)
        return t.dtype, t.shape, t.data
    raise TypeError("cannot make a tensor from %s" % type(value).__name__)


def tensor(value, dtype=None, shape=None, encoding="base64"):
    """An inline TENSOR object (a dict) for a request.

    value: a numpy array (dtype inferred, or converted to the given one),
    a :class:`Tensor`, raw little-endian bytes with dtype (shape defaults to
    1-D), a flat or nested Python list with dtype (shape defaults to the
    nesting), or a Python scalar with dtype (shape []).
    encoding: "base64" (compact, exact: the default) or "list" (readable;
    non-finite floats become "NaN", "Infinity", "-Infinity").
    """
    if encoding == "list" and np is not None and isinstance(value, (np.ndarray, np.generic)):
        dt, arr = _np_prepare(value, dtype)
        shp = list(arr.shape) if shape is None else _shape(shape)
        if element_count(shp) != arr.size:
            raise ValueError("shape %s does not hold the array's %d elements" % (shp, arr.size))
        if dt.name == "bfloat16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        values = arr.reshape(-1).tolist()
        return {"dtype": dt.name, "shape": shp, "data": _json_values(dt, values)}
    name, shp, data = to_bytes(value, dtype, shape)
    return _encode(DTYPES[name], shp, data, encoding)


def from_bytes(dtype, shape, data, offset=0):
    """A decoded tensor from little-endian bytes (any buffer, read from
    offset): a numpy array (a copy) when numpy is there, else a Tensor."""
    dt = _dtype(dtype)
    shape = _shape(shape)
    size = element_count(shape) * dt.itemsize
    if offset < 0 or offset + size > len(data):
        raise ValueError("%s%s at offset %d does not fit in %d bytes"
                         % (dt.name, shape, offset, len(data)))
    if np is not None:
        return _np_from_bytes(dt, shape, data, offset)
    with memoryview(data) as mv:  # released at once: a live export would keep an mmap from closing
        return Tensor(dt, shape, bytes(mv[offset:offset + size]))


def decode(obj):
    """A result TENSOR object ({dtype, shape, data} or {dtype, shape,
    data_b64}) as a numpy array, or a Tensor without numpy.

    Raises ValueError for an object that is not a well-formed inline TENSOR
    (pool outputs are read from the pool by the client, not here).
    """
    if not isinstance(obj, dict) or "dtype" not in obj or "shape" not in obj:
        raise ValueError("not a TENSOR object: %r" % (obj,))
    dt = _dtype(obj["dtype"])
    shape = _shape(obj["shape"])
    if "data_b64" in obj:
        try:
            raw = base64.b64decode(obj["data_b64"], validate=True)
        except (binascii.Error, TypeError) as e:
            raise ValueError("bad data_b64: %s" % e) from None
        want = element_count(shape) * dt.itemsize
        if len(raw) != want:
            raise ValueError("%s%s needs %d bytes, data_b64 holds %d" % (dt.name, shape, want, len(raw)))
    elif "data" in obj:
        values = obj["data"]
        if not isinstance(values, list):
            raise ValueError("data must be a flat list")
        if len(values) != element_count(shape):
            raise ValueError("%s%s needs %d values, data holds %d"
                             % (dt.name, shape, element_count(shape), len(values)))
        raw = _pack(dt, values)
    else:
        raise ValueError("TENSOR has neither data nor data_b64: %r" % (sorted(obj),))
    if np is not None:
        return _np_from_bytes(dt, shape, raw)
    return Tensor(dt, shape, raw)
