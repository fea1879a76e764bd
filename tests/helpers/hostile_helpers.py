"""Shared machinery of the hostile-input tests and of the atheris harness in ``fuzz/``.

* ``SEEDS``: valid byte vectors to mutate — records encoded by ``reference._codec`` and the
  records real Paddle 2.6.2 wrote (tests/helpers/paddle_dumps.py, as hex).
* ``lying_headers()``: hand-built records whose headers lie (built with ``struct`` here, not with
  the codec under test), each with the taxonomy ids the spec allows for it.
* ``decoder_params()`` / ``io_params()``: every implementation's decoders (behind one small
  adapter) and ``io`` modules, so each test runs against ``reference`` and ``numba_kernels``
  alike (an implementation whose API has not landed is an explicit skip).
* ``check_dense_success``: an oracle for a decode that *succeeded* on mutated bytes — it re-derives
  the result from the bytes with ``struct`` and the protobuf runtime, independently of the decoder.
"""

from __future__ import annotations

import importlib
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from paddle_dumps import varint  # the tests' own varint, independent of protobuf

from fluidspec.spec import element_type, is_element_type
from fluidspec.spec.errors import FluidSpecError
from fluidspec.spec.framework_pb2 import VarType as _VarTypeProto

# --------------------------------------------------------------------------------------------
# Building records by hand (independent of reference._codec)

FP32, INT64, INT8, BF16 = 5, 3, 21, 22
LFS_POINTER = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    b"size 12345\n"
)


def desc_bytes(data_type: int | None, dims: list[int]) -> bytes:
    """A TensorDesc as Paddle writes it: ``08 varint(dtype)`` then ``10 varint(dim)`` per dim.

    Built by hand so that out-of-enum or missing data types can be written too.
    """
    head = b"" if data_type is None else _varint_field(1, data_type)
    return head + b"".join(_varint_field(2, d) for d in dims)


def _varint_field(field: int, value: int) -> bytes:
    return varint(field << 3) + varint(value)


def raw_record(
    *,
    version: int = 0,
    lod_levels: list[list[int]] | None = None,
    level_count: int | None = None,
    level_nbytes: list[int] | None = None,
    tensor_version: int = 0,
    desc: bytes | None = None,
    desc_size: int | None = None,
    data: bytes = b"",
) -> bytes:
    """A dense-tensor record with every field overridable (to make it lie)."""
    lod_levels = lod_levels or []
    parts = [struct.pack("<I", version & 0xFFFFFFFF)]
    parts.append(struct.pack("<Q", len(lod_levels) if level_count is None else level_count))
    for i, level in enumerate(lod_levels):
        nbytes = 8 * len(level) if level_nbytes is None else level_nbytes[i]
        parts.append(struct.pack("<Q", nbytes))
        parts.append(struct.pack(f"<{len(level)}Q", *level))
    desc = desc_bytes(FP32, [0]) if desc is None else desc
    size = len(desc) if desc_size is None else desc_size
    parts.append(struct.pack("<Ii", tensor_version, size))
    parts.append(desc)
    parts.append(data)
    return b"".join(parts)


def raw_selected_rows(
    rows: list[int], height: int, desc: bytes, data: bytes = b"", *, row_count: int | None = None,
    version: int = 0,
) -> bytes:
    count = len(rows) if row_count is None else row_count
    head = struct.pack("<IQ", version, count) + struct.pack(f"<{len(rows)}q", *rows)
    return head + struct.pack("<qIi", height, 0, len(desc)) + desc + data


# --------------------------------------------------------------------------------------------
# Valid seeds

_NO_LOD = "00000000" + "00" * 8 + "00000000"

# Written by real Paddle 2.6.2 (hexdumps of its save_vars output); spaces are for reading only.
PADDLE_HEX: dict[str, str] = {
    "paddle-fp32-2x3": _NO_LOD + "06000000 080510021003"
    + "0000803f 00000040 00004040 00008040 0000a040 0000c040",
    "paddle-int64-empty": _NO_LOD + "04000000 08031000",
    "paddle-fp32-lod": "00000000 0100000000000000 1800000000000000"
    + "0000000000000000 0200000000000000 0500000000000000"
    + "00000000 06000000 080510051001"
    + "00000000 0000803f 00000040 00004040 00008040",
    "paddle-fp16": _NO_LOD + "04000000 08041002 003c00c0",
    "paddle-bool": _NO_LOD + "04000000 08001003 010001",
    "paddle-uint8": _NO_LOD + "04000000 08141002 01ff",
    "paddle-int8": _NO_LOD + "04000000 08151002 ff7f",
    "paddle-bf16": _NO_LOD + "04000000 08161002 803f00c0",
    "paddle-complex64": _NO_LOD + "04000000 08171001 0000803f00000040",
    "paddle-fp32-0d": _NO_LOD + "02000000 0805 00000040",
}
PADDLE_SELECTED_ROWS_HEX = (
    "00000000 0300000000000000 0100000000000000 0700000000000000 0300000000000000"
    "0a00000000000000 00000000 06000000 080510031002 00000000 0000803f 00000040 00004040"
    "00008040 0000a040"
)


def _from_hex(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def _codec_seeds() -> dict[str, bytes]:
    from fluidspec.reference import _codec

    two_level = [[0, 2, 3], [0, 1, 3, 5]]
    arrays: dict[str, tuple[np.ndarray, list[list[int]]]] = {
        "codec-fp32-lod2": (np.arange(10, dtype=np.float32).reshape(5, 2), two_level),
        "codec-int8-130": (np.arange(130, dtype=np.int8).reshape(1, 1, 1, 1, 1, 1, 1, 130), []),
        "codec-fp64-3d": (np.linspace(0, 1, 24).reshape(2, 3, 4), []),
        "codec-int32-lod-empty-seq": (np.arange(5, dtype=np.int32), [[0, 0, 5]]),
        "codec-complex128": (np.array([1 + 2j, -3j]), []),
    }
    seeds = {name: _codec.encode_lod_tensor(a, lod) for name, (a, lod) in arrays.items()}
    seeds["raw-fp32-2"] = raw_record(desc=desc_bytes(FP32, [2]), data=bytes(8))
    return seeds


def dense_seeds() -> dict[str, bytes]:
    """Valid single dense-tensor records (a separate file each)."""
    seeds = {name: _from_hex(text) for name, text in PADDLE_HEX.items()}
    seeds.update(_codec_seeds())
    return seeds


def combined_seeds() -> dict[str, tuple[bytes, int]]:
    """Valid combined streams with their record counts."""
    dense = dense_seeds()
    return {
        "combined-3": (dense["paddle-fp32-lod"] + dense["paddle-int8"] + dense["paddle-fp32-0d"], 3),
        "combined-2-with-empty": (dense["paddle-int64-empty"] + dense["codec-fp32-lod2"], 2),
    }


def selected_rows_seeds() -> dict[str, bytes]:
    return {"paddle-selected-rows": _from_hex(PADDLE_SELECTED_ROWS_HEX)}


# --------------------------------------------------------------------------------------------
# Lying headers: (name, bytes, allowed taxonomy ids, what the header claims)

TRUNC, OVER = "TRUNCATED", "SIZE_OVERFLOW"


@dataclass(frozen=True)
class Lie:
    name: str
    data: bytes
    allowed: frozenset[str]
    kind: str = "dense"  # or "selected_rows"


def lying_headers() -> list[Lie]:
    """Records whose headers ask for far more than they hold, or contradict the format."""
    fp32 = desc_bytes(FP32, [5, 1])
    data5 = bytes(20)

    def lie(name: str, data: bytes, *ids: str, kind: str = "dense") -> Lie:
        return Lie(name, data, frozenset(ids), kind)

    return [
        # dims (FMT-SAFE-002)
        lie("dims-2^40", raw_record(desc=desc_bytes(FP32, [1 << 40])), TRUNC),
        lie("dims-2^40x2^20", raw_record(desc=desc_bytes(FP32, [1 << 40, 1 << 20])), TRUNC),
        lie("dims-2^40x2^22", raw_record(desc=desc_bytes(FP32, [1 << 40, 1 << 22])), OVER),
        lie("dims-2^62x4-wraps-to-0", raw_record(desc=desc_bytes(FP32, [1 << 62, 4])), OVER),
        lie("dims-int8-2^62x4-wraps", raw_record(desc=desc_bytes(INT8, [1 << 62, 4])), OVER),
        lie("dims-2^31-cubed", raw_record(desc=desc_bytes(INT8, [1 << 31] * 3)), OVER),
        lie("dims-int64-max", raw_record(desc=desc_bytes(INT8, [(1 << 63) - 1])), TRUNC),
        lie("dims-neg1", raw_record(desc=desc_bytes(FP32, [-1, 6]), data=bytes(24)), OVER),
        lie("dims-zero-and-neg", raw_record(desc=desc_bytes(FP32, [0, -1])), OVER),
        lie("dims-int64-min", raw_record(desc=desc_bytes(FP32, [-(1 << 63)])), OVER),
        lie("dims-huge-times-zero",
            raw_record(desc=desc_bytes(FP32, [1 << 62, 1 << 62, 0])), OVER, "BAD_TENSOR_DESC"),
        lie("dims-70-ones", raw_record(desc=desc_bytes(FP32, [1] * 70), data=bytes(4)),
            OVER, "BAD_TENSOR_DESC"),
        lie("dims-2^40-short-data", raw_record(desc=desc_bytes(FP32, [1 << 40]), data=bytes(64)),
            TRUNC),
        # desc size (FMT-DESC-004)
        lie("desc-size-10^9", raw_record(desc_size=10**9), TRUNC),
        lie("desc-size-int32-max", raw_record(desc_size=(1 << 31) - 1), TRUNC),
        lie("desc-size-past-end-by-1", raw_record(desc=desc_bytes(FP32, [0]), desc_size=5), TRUNC),
        lie("desc-size-neg1", raw_record(desc_size=-1), "BAD_TENSOR_DESC"),
        lie("desc-size-int32-min", raw_record(desc_size=-(1 << 31)), "BAD_TENSOR_DESC"),
        # LoD (FMT-LOD-003/004)
        lie("lod-levels-2^60", raw_record(level_count=1 << 60), TRUNC, OVER),
        lie("lod-levels-u64-max", raw_record(level_count=(1 << 64) - 1), TRUNC, OVER),
        lie("lod-levels-3-no-data", raw_record(level_count=3), TRUNC),
        lie("lod-level-size-2^40",
            raw_record(lod_levels=[[0, 5]], level_nbytes=[1 << 40], desc=fp32, data=data5), TRUNC),
        lie("lod-level-size-u64-max-7",
            raw_record(lod_levels=[[0, 5]], level_nbytes=[(1 << 64) - 8], desc=fp32, data=data5),
            TRUNC, OVER),
        lie("lod-level-size-12",
            raw_record(lod_levels=[[0, 5]], level_nbytes=[12], desc=fp32, data=data5), "INVALID_LOD"),
        lie("lod-level-size-u64-max",
            raw_record(lod_levels=[[0, 5]], level_nbytes=[(1 << 64) - 1], desc=fp32, data=data5),
            "INVALID_LOD", TRUNC, OVER),
        lie("lod-not-monotone", raw_record(lod_levels=[[0, 5, 3]], desc=fp32, data=data5),
            "INVALID_LOD"),
        lie("lod-paddle-5-1-99", raw_record(lod_levels=[[5, 1, 99]], desc=fp32, data=data5),
            "INVALID_LOD"),
        lie("lod-not-ending-at-rows", raw_record(lod_levels=[[0, 2, 4]], desc=fp32, data=data5),
            "INVALID_LOD"),
        lie("lod-one-offset", raw_record(lod_levels=[[5]], desc=fp32, data=data5), "INVALID_LOD"),
        lie("lod-empty-level", raw_record(lod_levels=[[]], desc=fp32, data=data5), "INVALID_LOD"),
        lie("lod-levels-disagree",
            raw_record(lod_levels=[[0, 1, 2], [0, 2, 4]], desc=fp32, data=data5), "INVALID_LOD"),
        lie("lod-on-0d", raw_record(lod_levels=[[0, 1]], desc=desc_bytes(FP32, []), data=bytes(4)),
            "INVALID_LOD"),
        lie("lod-offset-2^63",
            raw_record(lod_levels=[[0, 1 << 63]], desc=fp32, data=data5), "INVALID_LOD"),
        # element type (FMT-DESC-003, FMT-DTYPE-005)
        lie("dtype-99", raw_record(desc=desc_bytes(99, [1]), data=bytes(4)), "BAD_TENSOR_DESC"),
        lie("dtype-negative", raw_record(desc=desc_bytes(-1, [1]), data=bytes(4)),
            "BAD_TENSOR_DESC"),
        # protobuf truncates an enum varint to int32: 2**32 + 99 reads as 99, unknown.
        lie("dtype-2^32+99", raw_record(desc=desc_bytes((1 << 32) + 99, [1]), data=bytes(4)),
            "BAD_TENSOR_DESC"),
        lie("dtype-missing", raw_record(desc=desc_bytes(None, [1]), data=bytes(4)),
            "BAD_TENSOR_DESC"),
        lie("dtype-LOD_TENSOR-7", raw_record(desc=desc_bytes(7, [1]), data=bytes(4)),
            "UNSUPPORTED_DTYPE"),
        lie("dtype-RAW-17", raw_record(desc=desc_bytes(17, [1]), data=bytes(4)),
            "UNSUPPORTED_DTYPE"),
        lie("dtype-SIZE_T-19", raw_record(desc=desc_bytes(19, [1]), data=bytes(8)),
            "UNSUPPORTED_DTYPE"),
        lie("desc-garbage", raw_record(desc=b"\xff\xff\xff\xff\xff"), "BAD_TENSOR_DESC"),
        lie("desc-varint-runs-off", raw_record(desc=b"\x08\x85\x80\x80"), "BAD_TENSOR_DESC"),
        # versions (FMT-REC-001/003) and foreign files (FMT-SAFE-004)
        lie("version-1", raw_record(version=1), "BAD_VERSION"),
        lie("version-u32-max", raw_record(version=0xFFFFFFFF), "BAD_VERSION"),
        lie("tensor-version-1", raw_record(tensor_version=1), "BAD_VERSION"),
        lie("tensor-version-6<<24", raw_record(tensor_version=6 << 24), "BAD_VERSION"),
        lie("git-lfs-pointer", LFS_POINTER, "NOT_A_TENSOR_FILE"),
        lie("git-lfs-pointer-short", LFS_POINTER[:24], "NOT_A_TENSOR_FILE"),
        lie("empty", b"", TRUNC),
        lie("trailing-byte", raw_record() + b"\x00", "TRAILING_BYTES"),
        # SelectedRows (FMT-SR-003)
        lie("sr-rows-2^50", raw_selected_rows([], 10, fp32, data5, row_count=1 << 50), TRUNC,
            OVER, kind="selected_rows"),
        lie("sr-rows-2^61", raw_selected_rows([], 10, fp32, data5, row_count=1 << 61), TRUNC,
            OVER, kind="selected_rows"),
        lie("sr-rows-u64-max", raw_selected_rows([], 10, fp32, data5, row_count=(1 << 64) - 1),
            TRUNC, OVER, kind="selected_rows"),
        lie("sr-dims-2^40x2^22", raw_selected_rows([1], 10, desc_bytes(FP32, [1 << 40, 1 << 22])),
            OVER, kind="selected_rows"),
        lie("sr-version-1", raw_selected_rows([1], 10, fp32, data5, version=1), "BAD_VERSION",
            kind="selected_rows"),
    ]


# --------------------------------------------------------------------------------------------
# Implementations under test


@dataclass(frozen=True)
class Decoders:
    """One implementation's decoders, each raising taxonomy errors on bad bytes.

    ``decode_file(buf) -> (array, lod)``: a separate file, exactly one dense record.
    ``decode_combined(buf, count) -> [(array, lod)]``: a combined stream of ``count`` records.
    ``decode_selected_rows(buf) -> (array, rows, height)``.
    """

    name: str
    decode_file: Callable[[bytes], tuple[np.ndarray, list[list[int]]]]
    decode_combined: Callable[[bytes, int], list[tuple[np.ndarray, list[list[int]]]]]
    decode_selected_rows: Callable[[bytes], tuple[np.ndarray, list[int], int]]


def reference_decoders() -> Decoders:
    from fluidspec.reference import _codec

    def decode_file(buf: bytes) -> tuple[np.ndarray, list[list[int]]]:
        out = _codec.decode_tensor_file(buf)
        return out.array, out.lod

    def decode_combined(buf: bytes, count: int) -> list[tuple[np.ndarray, list[list[int]]]]:
        return [(d.array, d.lod) for d in _codec.decode_combined(buf, count)]

    def decode_selected_rows(buf: bytes) -> tuple[np.ndarray, list[int], int]:
        out = _codec.decode_selected_rows(buf)
        if out.header is not None and out.header.end != len(buf):
            # The codec function reads one record at an offset; a file must end with it
            # (FMT-COMB-003), which a file-level reader checks.  Model that here.
            raise _trailing(out.header.end, len(buf))
        return out.array, out.rows, out.height

    return Decoders("reference", decode_file, decode_combined, decode_selected_rows)


def _trailing(end: int, size: int) -> FluidSpecError:
    from fluidspec.spec.errors import TrailingBytesError

    return TrailingBytesError("bytes after the record", offset=end, expected=end, found=size)


def numba_decoders() -> Decoders | None:
    """``numba_kernels``' decoders (its public ``numba_kernels.arrays`` API, copying), or None
    while that API has not landed."""
    try:
        arrays = importlib.import_module("fluidspec.numba_kernels.arrays")
    except ImportError:
        return None
    needed = ("decode_record", "decode", "decode_selected_rows")
    if not all(callable(getattr(arrays, name, None)) for name in needed):
        return None
    return Decoders(
        "numba_kernels",
        lambda buf: arrays.decode_record(buf, copy=True),
        lambda buf, count: arrays.decode(buf, copy=True, count=count),
        lambda buf: arrays.decode_selected_rows(buf, copy=True),
    )


def decoder_params() -> list[Any]:
    """pytest params: every implementation, the missing ones as explicit skips."""
    import pytest

    params = [pytest.param(reference_decoders(), id="reference")]
    numba = numba_decoders()
    if numba is None:
        params.append(
            pytest.param(None, id="numba_kernels",
                         marks=pytest.mark.skip(reason="numba_kernels decode API not landed yet"))
        )
    else:
        params.append(pytest.param(numba, id="numba_kernels"))
    return params


# --------------------------------------------------------------------------------------------
# Oracles


def valid_lod(lod: list[list[int]], dims: tuple[int, ...]) -> bool:
    """FMT-LOD-002 restated: levels >= 2 offsets from 0, non-decreasing, chained, ending at dims[0]."""
    if not lod:
        return True
    if not dims:
        return False
    for i, level in enumerate(lod):
        if len(level) < 2 or level[0] != 0 or any(b < a for a, b in zip(level, level[1:], strict=False)):
            return False
        if i + 1 < len(lod) and level[-1] != len(lod[i + 1]) - 1:
            return False
    return lod[-1][-1] == dims[0]


def check_dense_success(buf: bytes, offset: int, array: np.ndarray, lod: list[list[int]]) -> int:
    """Assert that ``(array, lod)`` is exactly what the record at ``offset`` says; return its end.

    Re-reads the bytes with ``struct`` and the protobuf runtime, so a decoder that "succeeds" on
    mutated input with anything but the true content fails here.
    """
    version, levels = struct.unpack_from("<IQ", buf, offset)
    pos = offset + 12
    assert version == 0
    read_lod = []
    for _ in range(levels):
        (nbytes,) = struct.unpack_from("<Q", buf, pos)
        assert nbytes % 8 == 0
        read_lod.append(list(struct.unpack_from(f"<{nbytes // 8}Q", buf, pos + 8)))
        pos += 8 + nbytes
    assert [list(level) for level in lod] == read_lod
    assert valid_lod(read_lod, array.shape)
    return _check_tensor_part(buf, pos, array)


def check_selected_rows_success(
    buf: bytes, array: np.ndarray, rows: list[int], height: int
) -> int:
    """The SelectedRows twin of ``check_dense_success`` (record at offset 0)."""
    version, count = struct.unpack_from("<IQ", buf, 0)
    assert version == 0
    assert list(rows) == list(struct.unpack_from(f"<{count}q", buf, 12))
    (read_height,) = struct.unpack_from("<q", buf, 12 + 8 * count)
    assert height == read_height
    return _check_tensor_part(buf, 20 + 8 * count, array)


def _check_tensor_part(buf: bytes, pos: int, array: np.ndarray) -> int:
    tensor_version, desc_size = struct.unpack_from("<Ii", buf, pos)
    pos += 8
    assert tensor_version == 0 and desc_size >= 0
    raw_desc = bytes(buf[pos : pos + desc_size])
    assert len(raw_desc) == desc_size
    desc = _VarTypeProto.TensorDesc.FromString(raw_desc)
    pos += desc_size
    assert desc.HasField("data_type") and is_element_type(desc.data_type)
    row = element_type(desc.data_type)
    assert array.dtype == row.dtype, (array.dtype, row.dtype)
    assert list(array.shape) == list(desc.dims)
    numel = 1
    for d in desc.dims:
        numel *= d
    nbytes = numel * row.size
    assert array.nbytes == nbytes
    data = bytes(buf[pos : pos + nbytes])
    assert len(data) == nbytes
    assert data == np.ascontiguousarray(array).tobytes()
    return pos + nbytes


def check_error(err: FluidSpecError, buf_len: int) -> None:
    """What every taxonomy error on raw bytes must carry (ERR-002)."""
    assert isinstance(err, FluidSpecError)
    text = str(err)
    assert text.startswith(err.id + ":"), text
    if err.offset is not None:
        assert 0 <= err.offset <= buf_len, (err.offset, buf_len)


# --------------------------------------------------------------------------------------------
# Filesystem watching (safe paths, kills)


def snapshot_tree(root: str | os.PathLike[str]) -> dict[str, bytes | None]:
    """Every path under ``root`` (files -> content, dirs -> None), relative, symlinks not followed."""
    out: dict[str, bytes | None] = {}
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = None
        for f in filenames:
            full = os.path.join(dirpath, f)
            rel = os.path.relpath(full, root)
            out[rel] = b"<symlink>" if os.path.islink(full) else Path(full).read_bytes()
    return out


# --------------------------------------------------------------------------------------------
# The save/load APIs of every implementation, on the shared data model (reference's Program,
# Scope, Executor, which numba_kernels uses too).


def io_params() -> list[Any]:
    """pytest params: the ``io`` module of every implementation, missing ones as skips."""
    import pytest

    params = []
    for impl, module_name in (("reference", "fluidspec.reference.io"), ("numba_kernels", "fluidspec.numba_kernels.io")):
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            params.append(pytest.param(None, id=impl, marks=pytest.mark.skip(
                reason=f"{module_name} not importable yet ({exc})")))
            continue
        params.append(pytest.param(module, id=impl))
    return params


def build_program(
    values: dict[str, np.ndarray], *, parameters: frozenset[str] | set[str] = frozenset(),
    declared: dict[str, tuple[list[int], str]] | None = None, set_values: bool = True,
) -> Any:
    """A Program holding one persistable var per name (Parameters for ``parameters``), and the
    values put into the *current* global scope.  ``declared`` overrides a var's declared
    (shape, dtype); by default they are the value's."""
    from fluidspec import reference as fluid

    program = fluid.Program()
    block = program.global_block()
    for name, value in values.items():
        shape, dtype = (declared or {}).get(name, (list(value.shape), value.dtype.name))
        if name in parameters:
            block.create_parameter(name=name, shape=shape, dtype=dtype)
        else:
            block.create_var(name=name, shape=shape, dtype=dtype, persistable=True)
        if set_values:
            fluid.global_scope().var(name).get_tensor().set(value, fluid.CPUPlace())
    return program


def scope_values(names: list[str]) -> dict[str, np.ndarray | None]:
    """What the current global scope holds for ``names`` (None: no value), as copies."""
    from fluidspec import reference as fluid

    out: dict[str, np.ndarray | None] = {}
    for name in names:
        holder = fluid.global_scope().find_var(name)
        if holder is None or not holder.is_initialized():
            out[name] = None
        else:
            out[name] = np.array(holder.get_tensor()).copy()
    return out


def same_values(a: dict[str, np.ndarray | None], b: dict[str, np.ndarray | None]) -> bool:
    if a.keys() != b.keys():
        return False
    for name in a:
        x, y = a[name], b[name]
        if (x is None) != (y is None):
            return False
        if x is not None and (x.dtype != y.dtype or x.shape != y.shape
                              or x.tobytes() != y.tobytes()):
            return False
    return True
