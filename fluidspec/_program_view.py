"""What ``fluidspec inspect`` shows for a program file (``__model__``, ``*.pdmodel``).

The ProgramDesc is parsed with the generated bindings (``spec.framework_pb2``) directly, not with
the reference's data model, so that ``inspect`` stays fast and reports the bytes as they are —
including programs the reference would refuse.  Which files are programs is clause
PROG-SNIFF-001 (spec/chapters/program.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError

from fluidspec.spec import TENSOR_DESC_FIELDS, VarType, element_type
from fluidspec.spec.errors import BadProgramError
from fluidspec.spec.framework_pb2 import AttrType, OpDesc, ProgramDesc, Scalar

__all__ = [
    "PROGRAM_NAMES",
    "PROGRAM_SUFFIXES",
    "is_program_name",
    "sniff_program",
    "parse_program",
    "program_view",
    "render_program",
    "dispatch",
]

#: PROG-SNIFF-001: names that make a file a program whatever its bytes.
PROGRAM_NAMES = ("__model__",)
PROGRAM_SUFFIXES = (".pdmodel", ".main_program")

# Attributes every op carries for bookkeeping; the human view counts them instead of printing
# them (Paddle 2.6.2 records the Python stack of every op in ``op_callstack``, a page of absolute
# paths per op).
_BOOKKEEPING_ATTRS = frozenset(
    {"op_callstack", "op_device", "op_namescope", "op_role", "op_role_var", "with_quant_attr"}
)


# ``blocks`` (field 1, length-delimited): the first byte of a ProgramDesc as protobuf writes it.
_BLOCKS_TAG = b"\x0a"
# Files smaller than this are sniffed whatever their first byte (a hand-made program may order
# its fields otherwise); larger ones only when they start with _BLOCKS_TAG.
_SNIFF_ANY_BELOW = 64 << 20


def is_program_name(path: str | Path) -> bool:
    """PROG-SNIFF-001: ``__model__``, ``*.pdmodel`` and ``*.main_program`` are programs by name."""
    p = Path(path)
    return p.name in PROGRAM_NAMES or p.suffix in PROGRAM_SUFFIXES


def _parse(buf: bytes) -> ProgramDesc | None:
    """The ProgramDesc in ``buf`` when it parses and has every required field, else None."""
    try:
        program = ProgramDesc.FromString(buf)
    except (DecodeError, RuntimeError, ValueError):
        return None
    # The Python runtime does not check proto2 `required` fields on parse; Paddle's C++ does.
    return program if program.IsInitialized() else None


def sniff_program(buf: bytes) -> bool:
    """PROG-SNIFF-001, content rule: bytes that are *not* tensor data are a program when they
    parse as an initialised ProgramDesc whose first block has ``idx`` 0.

    Callers apply this only after the tensor reading failed (FMT-SNIFF-001 comes first): tensor
    records start with a zero u32, which is never a valid protobuf tag, so the two never overlap.
    """
    program = _parse(buf)
    return program is not None and len(program.blocks) > 0 and program.blocks[0].idx == 0


def parse_program(buf: bytes, path: str | Path | None = None) -> ProgramDesc:
    """Parse a program file, or raise BAD_PROGRAM naming the file and what was wrong."""
    try:
        program = ProgramDesc.FromString(buf)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise BadProgramError(
            f"not a parseable ProgramDesc ({exc})", path=path, offset=0,
            expected="a serialized ProgramDesc (PROG-SCHEMA-001)", found=buf[:16].hex(" "),
        ) from None
    if not program.IsInitialized():
        missing = ", ".join(program.FindInitializationErrors()[:5])
        raise BadProgramError(
            "ProgramDesc lacks required fields", path=path,
            expected="every proto2 required field set", found=f"missing {missing}",
        )
    return program


# --------------------------------------------------------------------------------------------
# The view: plain JSON-able data


def _scalar(s: Scalar) -> Any:
    if s.type == Scalar.BOOLEAN:
        return s.b
    if s.type == Scalar.LONG:
        return s.i
    if s.type == Scalar.FLOAT64:
        return s.r
    return [s.c.r, s.c.i]


def _attr_value(a: OpDesc.Attr) -> Any:
    """The value an attribute holds, read from the field its AttrType names."""
    simple = {
        AttrType.INT: "i", AttrType.FLOAT: "f", AttrType.STRING: "s", AttrType.BOOLEAN: "b",
        AttrType.BLOCK: "block_idx", AttrType.LONG: "l", AttrType.VAR: "var_name",
        AttrType.FLOAT64: "float64",
    }
    repeated = {
        AttrType.INTS: "ints", AttrType.FLOATS: "floats", AttrType.STRINGS: "strings",
        AttrType.BOOLEANS: "bools", AttrType.BLOCKS: "blocks_idx", AttrType.LONGS: "longs",
        AttrType.FLOAT64S: "float64s", AttrType.VARS: "vars_name",
    }
    if a.type in simple:
        return getattr(a, simple[a.type])
    if a.type in repeated:
        return list(getattr(a, repeated[a.type]))
    if a.type == AttrType.SCALAR:
        return _scalar(a.scalar)
    return [_scalar(s) for s in a.scalars]


def _type_name(code: int) -> str:
    try:
        return VarType(code).name
    except ValueError:
        return f"UNKNOWN({code})"


def _var_view(v: Any) -> dict[str, Any]:
    kind = int(v.type.type)
    out: dict[str, Any] = {
        "name": v.name,
        "kind": _type_name(kind),
        "dtype": None,
        "dims": None,
        "lod_level": None,
        "persistable": v.persistable,
        "need_check_feed": v.need_check_feed,
        "is_parameter": v.is_parameter,
        "stop_gradient": v.stop_gradient,
    }
    field = TENSOR_DESC_FIELDS.get(kind)
    if field is None or not v.type.HasField(field):
        return out
    desc = getattr(v.type, field)
    if hasattr(desc, "tensor"):  # LoDTensorDesc / LoDTensorArrayDesc wrap a TensorDesc
        out["lod_level"] = desc.lod_level
        desc = desc.tensor
    code = int(desc.data_type)
    try:
        out["dtype"] = element_type(code).name
    except KeyError:
        out["dtype"] = _type_name(code)
    out["dims"] = list(desc.dims)
    return out


def _slots(slots: Any) -> dict[str, list[str]]:
    return {s.parameter: list(s.arguments) for s in slots}


def _targets(block: dict[str, Any], op_type: str, slot: str, side: str) -> list[dict[str, Any]]:
    """Feed or fetch targets of a block, ordered by their ``col`` attribute (programs saved by
    Paddle 2.6.2 store feed ops in reverse col order; its API returns col order)."""
    found = []
    for op in block["ops"]:
        if op["type"] != op_type:
            continue
        names = op[side].get(slot, [])
        col = op["attrs"].get("col")
        found.append({"col": col, "name": names[0] if names else None})
    return sorted(found, key=lambda t: (t["col"] is None, t["col"] if t["col"] is not None else 0))


def program_view(buf: bytes, path: str | Path | None = None) -> dict[str, Any]:
    """Everything ``inspect`` reports about a program file, as one JSON-able object.

    Raises BAD_PROGRAM (via :func:`parse_program`) when the bytes are not a ProgramDesc.
    """
    program = parse_program(buf, path)
    blocks = []
    for b in program.blocks:
        ops = [
            {
                "type": op.type,
                "inputs": _slots(op.inputs),
                "outputs": _slots(op.outputs),
                "attrs": {a.name: _attr_value(a) for a in op.attrs},
            }
            for op in b.ops
        ]
        blocks.append({
            "idx": b.idx,
            "parent_idx": b.parent_idx,
            "forward_block_idx": b.forward_block_idx,
            "vars": [_var_view(v) for v in b.vars],
            "ops": ops,
        })
    # Feed and fetch ops live in the global block (block 0) of an inference program.
    first = blocks[0] if blocks else {"ops": []}
    return {
        "path": None if path is None else str(path),
        "kind": "ProgramDesc",
        "size": len(buf),
        "version": program.version.version if program.HasField("version") else None,
        "op_version_map": {
            p.op_name: p.op_version.version for p in program.op_version_map.pair
        },
        "blocks": blocks,
        "feed_targets": _targets(first, "feed", "Out", "outputs"),
        "fetch_targets": _targets(first, "fetch", "X", "inputs"),
    }


# --------------------------------------------------------------------------------------------
# Human-readable rendering


def _release(version: int | None) -> str:
    """PROG-VER-001: major*10**6 + minor*10**3 + patch."""
    if version is None:
        return "no version"
    return f"version {version} (= {version // 1_000_000}.{version // 1000 % 1000}.{version % 1000})"


def _fmt_slots(slots: dict[str, list[str]]) -> str:
    return ", ".join(f"{k}=[{', '.join(v)}]" for k, v in slots.items()) or "-"


def _fmt_attr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def render_program(view: dict[str, Any]) -> str:
    """The text ``fluidspec inspect`` prints for a program file."""
    lines = [
        f"{view['path']}: ProgramDesc, {view['size']} bytes, {_release(view['version'])}, "
        f"{len(view['blocks'])} block(s), op_version_map of {len(view['op_version_map'])} op(s)"
    ]
    for title, key in (("feed targets", "feed_targets"), ("fetch targets", "fetch_targets")):
        shown = ", ".join(f"col {t['col']}: {t['name']}" for t in view[key]) or "none"
        lines.append(f"  {title} (by col): {shown}")
    for b in view["blocks"]:
        lines.append(f"  block {b['idx']} (parent {b['parent_idx']}): "
                     f"{len(b['vars'])} var(s), {len(b['ops'])} op(s)")
        width = max((len(v["name"]) for v in b["vars"]), default=0)
        for v in b["vars"]:
            flags = [f for f in ("persistable", "is_parameter", "need_check_feed") if v[f]]
            tensor = ""
            if v["dtype"] is not None:
                tensor = f" {v['dtype']} {v['dims']}"
                if v["lod_level"]:
                    tensor += f" lod_level {v['lod_level']}"
            lines.append(f"    var {v['name']:<{width}}  {v['kind']}{tensor}"
                         + (f"  [{', '.join(flags)}]" if flags else ""))
        for i, op in enumerate(b["ops"]):
            shown_attrs = {k: a for k, a in op["attrs"].items() if k not in _BOOKKEEPING_ATTRS}
            hidden = len(op["attrs"]) - len(shown_attrs)
            attrs = " ".join(f"{k}={_fmt_attr(a)}" for k, a in sorted(shown_attrs.items()))
            more = f" (+{hidden} bookkeeping attrs)" if hidden else ""
            lines.append(f"    op {i:>3} {op['type']}: {_fmt_slots(op['inputs'])} -> "
                         f"{_fmt_slots(op['outputs'])}" + (f"  {attrs}" if attrs else "") + more)
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The hook ``fluidspec._inspect`` calls for every file


def dispatch(file: Path, shown: str) -> dict[str, Any] | None:
    """The program view of ``file`` when PROG-SNIFF-001 says it is a program, else None.

    A file named as a program that does not parse raises BAD_PROGRAM.  Any other file is a
    program only when the tensor reading cannot succeed — its first byte is not 0, the first
    byte of every tensor record's u32 version (FMT-REC-001, FMT-SR-001) — and its bytes pass
    :func:`sniff_program`.  Files that start with 0 are left to the tensor reader unread, so
    large parameter files are not read twice.  A large file is read whole only when it starts
    as every serialized ProgramDesc does (protobuf writes fields in number order, and ``blocks``
    is field 1), so a big file of another kind costs no more memory than its first byte.
    """
    if is_program_name(file):
        return program_view(file.read_bytes(), shown)
    with file.open("rb") as fh:
        first = fh.read(1)
    if first in (b"", b"\x00"):
        return None
    if first != _BLOCKS_TAG and file.stat().st_size > _SNIFF_ANY_BELOW:
        return None
    buf = file.read_bytes()
    return program_view(buf, shown) if sniff_program(buf) else None
