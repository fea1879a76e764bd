"""Bytes real Paddle 2.6.2 wrote, transcribed from hexdumps of its saved files — the external oracle.

Also a protobuf varint and the TensorDesc of FMT-DESC-001 written out by hand, so tests can
build expected bytes without the protobuf runtime the codec uses.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
from symmetric import SelectedRowsSample, TensorSample


def h(text: str) -> bytes:
    """Bytes from a hexdump as `hexdump -C` prints it (spaces and ``|`` ignored)."""
    return bytes.fromhex(text.replace("|", " "))


# --------------------------------------------------------------------------------------------
# The external oracle: bytes written by real Paddle 2.6.2 (and identically by 3.3.1), as
# transcribed from hexdumps of the files.  NO_LOD is the 16-byte no-LoD prefix the dumps share.

NO_LOD = "00000000 0000000000000000 00000000"

PADDLE_DUMPS: dict[str, tuple[TensorSample, bytes]] = {
    "float32[2,3]": (
        TensorSample(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)),
        h(
            "00 00 00 00 | 00 00 00 00 00 00 00 00 | 00 00 00 00 | 06 00 00 00 | 08 05 10 02 10 03 |"
            "00 00 80 3f 00 00 00 40 00 00 40 40 00 00 80 40 00 00 a0 40 00 00 c0 40"
        ),
    ),
    "int64[0]": (
        TensorSample(np.zeros(0, dtype=np.int64)),
        h("00000000 0000000000000000 00000000 04000000 | 08 03 10 00"),
    ),
    "float32[5,1] lod [[0,2,5]]": (
        TensorSample(np.arange(5, dtype=np.float32).reshape(5, 1), [[0, 2, 5]]),
        h(
            "00 00 00 00 | 01 00 00 00 00 00 00 00 | 18 00 00 00 00 00 00 00 |"
            "00 00 00 00 00 00 00 00 | 02 00 00 00 00 00 00 00 | 05 00 00 00 00 00 00 00 |"
            "00 00 00 00 | 06 00 00 00 | 08 05 10 05 10 01 |"
            "00 00 00 00 00 00 80 3f 00 00 00 40 00 00 40 40 00 00 80 40"
        ),
    ),
    "float16[2]": (
        TensorSample(np.array([1, -2], dtype=np.float16)),
        h(f"{NO_LOD} 04000000 08 04 10 02 | 00 3c 00 c0"),
    ),
    "bool[3]": (
        TensorSample(np.array([True, False, True])),
        h(f"{NO_LOD} 04000000 08 00 10 03 | 01 00 01"),
    ),
    "uint8[2]": (
        TensorSample(np.array([1, 255], dtype=np.uint8)),
        h(f"{NO_LOD} 04000000 08 14 10 02 | 01 ff"),
    ),
    "int8[2]": (
        TensorSample(np.array([-1, 127], dtype=np.int8)),
        h(f"{NO_LOD} 04000000 08 15 10 02 | ff 7f"),
    ),
    "bfloat16[2]": (
        TensorSample(np.array([1, -2], dtype=ml_dtypes.bfloat16)),
        h(f"{NO_LOD} 04000000 08 16 10 02 | 80 3f 00 c0"),
    ),
    # Paddle's own way to make that tensor: a numpy uint16 array of bf16 bits (FMT-DTYPE-003).
    "bfloat16[2] from numpy uint16": (
        TensorSample(
            np.array([0x3F80, 0xC000], dtype=np.uint16),
            decoded=np.array([1, -2], dtype=ml_dtypes.bfloat16),
        ),
        h(f"{NO_LOD} 04000000 08 16 10 02 | 80 3f 00 c0"),
    ),
    "complex64[1]": (
        TensorSample(np.array([1 + 2j], dtype=np.complex64)),
        h(f"{NO_LOD} 04000000 08 17 10 01 | 00 00 80 3f 00 00 00 40"),
    ),
    "float32 0-d": (
        TensorSample(np.array(2.0, dtype=np.float32)),
        h(f"{NO_LOD} 02000000 08 05 | 00 00 00 40"),
    ),
}

# Dumps whose header was transcribed byte for byte but whose data values it does not
# ("+ 40 data bytes"; the int8 rank-8 case only shows the desc).  The header is the oracle; the
# data is ours (any values of the right size, written raw).
PADDLE_HEADERS: dict[str, tuple[TensorSample, bytes]] = {
    "float32[5,2] lod [[0,2,3],[0,1,3,5]]": (
        TensorSample(np.arange(10, dtype=np.float32).reshape(5, 2), [[0, 2, 3], [0, 1, 3, 5]]),
        h(
            "00000000 0200000000000000"
            "1800000000000000 0000000000000000 0200000000000000 0300000000000000"
            "2000000000000000 0000000000000000 0100000000000000 0300000000000000 0500000000000000"
            "00000000 06000000 080510051002"
        ),
    ),
    "int8[1,1,1,1,1,1,1,130]": (
        TensorSample(np.arange(130, dtype=np.int8).reshape(1, 1, 1, 1, 1, 1, 1, 130)),
        h(f"{NO_LOD} 13000000 08 15 10 01 10 01 10 01 10 01 10 01 10 01 10 01 10 82 01"),
    ),
}

PADDLE_SELECTED_ROWS = (
    SelectedRowsSample(np.arange(6, dtype=np.float32).reshape(3, 2), [1, 7, 3], 10),
    h(
        "00000000 0300000000000000 0100000000000000 0700000000000000 0300000000000000"
        "0a00000000000000 00000000 06000000 080510031002 00000000 0000803f 00000040 00004040"
        "00008040 0000a040"
    ),
)


def varint(value: int) -> bytes:
    """Protobuf base-128 varint, written here independently of the protobuf runtime."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def paddle_desc(code: int, dims: tuple[int, ...]) -> bytes:
    """FMT-DESC-001 written out by hand: 08 varint(dtype) then 10 varint(dim) per dim."""
    return b"\x08" + varint(code) + b"".join(b"\x10" + varint(d) for d in dims)
