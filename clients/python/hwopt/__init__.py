"""hwopt: a Python client for hwoptd (docs/protocol.md).

    import hwopt
    with hwopt.connect() as c:
        c.hello()
        c.load_model("mlp", "mlp.onnx")
        r = c.infer("mlp", {"x": x})          # x: a numpy array
        print(r.outputs["y"], r.timings)

Standard library only; numpy is used when importable (decoded tensors are
numpy arrays), else decoded tensors are hwopt.Tensor (raw bytes + dtype +
shape).
"""

from .client import (PROTOCOL_VERSION, Client, InferResult, PoolList, connect,
                      default_socket_path)
from .errors import ERROR_CODES, ERROR_NAMES, ConnectionClosed, ProtocolError, RPCError
from .pools import Block, Pool
from .tensors import DTYPES, Tensor, decode, dtype_name, have_numpy, tensor

__version__ = "0.1.0"

__all__ = [
    "connect", "default_socket_path", "Client", "InferResult", "PoolList", "Pool", "Block",
    "tensor", "decode", "Tensor", "DTYPES", "dtype_name", "have_numpy",
    "RPCError", "ConnectionClosed", "ProtocolError", "ERROR_NAMES", "ERROR_CODES",
    "PROTOCOL_VERSION",
]
