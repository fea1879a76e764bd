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
    from fluidspec._program_view import sniff_program

    require(sniff_program(raw) and not sniff_program((d / "w").read_bytes()), "PROG-SNIFF-001",
            "sniffing does not tell the model from the parameter file")


register_vectors("PROG")
