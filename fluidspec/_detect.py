"""What a file that is not Fluid tensor data is, said in one line with what to do about it.

``fluidspec inspect`` and ``diff`` ask :func:`identify` before reading records, so a file from
another tool (ONNX, safetensors, a ``paddle.save`` pickle, a Paddle 3 PIR ``.json`` program)
gets a NOT_A_TENSOR_FILE error naming it instead of the BAD_VERSION its first bytes would
give.  Only the first bytes of the file are looked at (:data:`HEAD_SIZE`), and its size.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

from fluidspec.spec import LFS_POINTER_PREFIX
from fluidspec.spec.errors import NotATensorFileError

__all__ = ["HEAD_SIZE", "Identity", "identify", "is_pir_json", "is_side_file",
           "not_a_tensor_file"]

#: How much of a file identification reads: enough for every magic and for ONNX's first fields.
HEAD_SIZE = 4096

# A Paddle 3 PIR program serialised as JSON (paddle/fluid/pir/serialize_deserialize in Paddle
# 3.3.1): {"base_code": {"magic": "pir", ...}, "program": {...}}.
_PIR_MAGIC = re.compile(rb'"magic"\s*:\s*"pir"')

# ModelProto's top-level fields (onnx/onnx.proto, ONNX 1.x) -> protobuf wire type.
_ONNX_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2}


@dataclass(frozen=True)
class Identity:
    """What a file is (``what``) and what to do with it (``advice``)."""

    what: str
    advice: str

    @property
    def message(self) -> str:
        return f"this is {self.what}, not Fluid tensor data; {self.advice}"


def is_pir_json(head: bytes) -> bool:
    """A Paddle 3 PIR program (``model.json`` of save_inference_model or jit.save)."""
    return head.lstrip().startswith(b"{") and _PIR_MAGIC.search(head[:512]) is not None


def _varint(buf: bytes, pos: int) -> tuple[int, int] | None:
    value = shift = 0
    while pos < len(buf) and shift < 64:
        byte = buf[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
    return None


def _looks_like_onnx(head: bytes) -> bool:
    """ModelProto: ``ir_version`` (field 1, a small varint) first, as every ONNX writer puts
    it, then only ModelProto fields with their wire types, as far as the head reaches."""
    if not head.startswith(b"\x08"):
        return False
    pos, fields = 0, 0
    while pos < len(head):
        tag = _varint(head, pos)
        if tag is None:
            break
        key, pos = tag
        number, wire = key >> 3, key & 7
        if _ONNX_FIELDS.get(number) != wire:
            return False
        value = _varint(head, pos)
        if value is None:
            break
        if fields == 0 and not 1 <= value[0] <= 64:  # ir_version
            return False
        pos = value[1] + (value[0] if wire == 2 else 0)
        fields += 1
    return fields >= 2


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    """safetensors: u64 little-endian header length, then that many bytes of JSON."""
    if len(head) < 10:
        return False
    (length,) = struct.unpack_from("<Q", head)
    return 2 <= length <= size - 8 and head[8:9] == b"{"


def is_side_file(path: Path) -> bool:
    """paddle.jit.save's ``.pdiparams.info`` (Paddle 2.x): kept beside a model, holding no
    variable; a directory scan passes over it instead of failing on it."""
    return path.name.endswith(".pdiparams.info")


def _pickle_identity(path: Path) -> Identity:
    name = path.name
    if name.endswith(".pdiparams.info"):
        stem = name[: -len(".info")]
        return Identity(
            "the .pdiparams.info of paddle.jit.save (Paddle 2.x: a pickle of parameter "
            "attributes)", f"the parameters are in {stem} beside it: fluidspec inspect {stem}")
    if name.endswith((".pdparams", ".pdopt")):
        return Identity(
            f"a paddle.save pickle ({'optimizer state' if name.endswith('.pdopt') else 'a state dict'})",
            "read it with paddle.load; save_vars/load_vars files are LoDTensor streams")
    return Identity("a Python pickle (paddle.save writes these)", "read it with paddle.load")


def identify(path: Path, head: bytes, size: int) -> Identity | None:
    """What the file is when its first bytes say it is another format, else None.

    Anonymous pickles, numpy and zip files are left to the reader and its hint (the error of the
    bytes stands, then what they look like); a pickle named as Paddle names them is named here.
    """
    if head.startswith(LFS_POINTER_PREFIX):
        return Identity("a Git LFS pointer", "fetch the file itself with `git lfs pull`")
    if is_pir_json(head):
        return Identity("a Paddle 3 PIR program (JSON)", "fluidspec inspect summarises it")
    if path.suffix == ".json" and head.lstrip()[:1] in (b"{", b"["):
        return Identity('a JSON file but not a Paddle 3 PIR program (no "magic": "pir")',
                        "a Paddle 3 program starts with {\"base_code\": {\"magic\": \"pir\"")
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5 and (
            path.name.endswith((".pdparams", ".pdopt", ".pdiparams.info"))):
        return _pickle_identity(path)
    if _looks_like_safetensors(head, size):
        return Identity("a safetensors file", "read it with the safetensors library")
    if _looks_like_onnx(head):
        return Identity("an ONNX model (ModelProto)", "read it with onnx or onnxruntime; "
                        "paddle2onnx converts the other way only")
    return None


def not_a_tensor_file(identity: Identity, path: Path | str) -> NotATensorFileError:
    """The taxonomy error (FMT-SAFE-004) for a file :func:`identify` named."""
    return NotATensorFileError(identity.message, path=path, offset=0)
