"""Checks of program files (spec/chapters/program.md, PROG-*): what an
implementation writes as a program file parses with fluidspec's own ProgramDesc bindings.
"""

from __future__ import annotations

from pathlib import Path

from fluidspec.conformance._context import CheckContext
from fluidspec.conformance._helpers import (
    expect_ok,
    tiny_inference_case,
)
from fluidspec.conformance._registry import check
from fluidspec.conformance._vector_replay import register_vectors
from fluidspec.conformance._verdict import fail, require


@check("PROG-SCHEMA-002", "PROG-SNIFF-001", apis=("save_inference_model",))
def check_program_files(ctx: CheckContext) -> None:
    """A saved __model__ parses with fluidspec's schema (package name plays no part) and is sniffed
    as a program, while tensor files are not."""
    from fluidspec.reference.codec import read_records
    from fluidspec.spec.framework_pb2 import DESCRIPTOR, ProgramDesc

    program, values, call = tiny_inference_case(ctx.fresh_dir("m"))
    out = ctx.run(program, values, call)
    expect_ok(out, "PROG-SCHEMA-002", "save_inference_model")
    d = Path(call.get("dirname"))
    raw = (d / "__model__").read_bytes()
    try:
        ProgramDesc.FromString(raw)
    except Exception as exc:
        raise fail("PROG-SCHEMA-002", f"__model__ does not parse with package {DESCRIPTOR.package}: "
                   f"{exc}") from None
    require(DESCRIPTOR.package.encode() not in raw and b"paddle.framework.proto" not in raw,
            "PROG-SCHEMA-002", "a protobuf package name reached the bytes")
    tensor_ok = True
    try:
        read_records(raw)
    except Exception:
        tensor_ok = False
    require(not tensor_ok, "PROG-SNIFF-001", "the __model__ bytes also read as tensor records")
    require(_sniffs_as_program(raw) and not _sniffs_as_program((d / "w").read_bytes()),
            "PROG-SNIFF-001", "sniffing does not tell the model from the parameter file")


def _sniffs_as_program(buf: bytes) -> bool:
    """PROG-SNIFF-001's content rule, as the clause states it: not tensor data (the first byte
    is not 0), and an initialised ProgramDesc whose first block has idx 0."""
    from fluidspec.spec.framework_pb2 import ProgramDesc

    if not buf or buf[0] == 0:
        return False
    try:
        program = ProgramDesc.FromString(buf)
    except Exception:
        return False
    return program.IsInitialized() and len(program.blocks) > 0 and program.blocks[0].idx == 0


register_vectors("PROG")
