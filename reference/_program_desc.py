"""ProgramDesc bytes <-> Program objects, through the protobuf runtime (PROG-SCHEMA-001).

A Program parsed from bytes keeps every message it was made of (Variables and Operators own
their ``VarDesc``/``OpDesc``, Blocks and the Program keep the rest of theirs), so serializing
it again reproduces the input byte for byte (PROG-SER-001): the protobuf runtime writes known
fields in field-number order and keeps unknown fields, exactly as Paddle's C++ runtime does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from google.protobuf.message import DecodeError

from fluidspec.spec import framework_pb2 as pb
from fluidspec.spec.errors import BadProgramError

if TYPE_CHECKING:
    from fluidspec.reference._framework import Operator, Program

__all__ = [
    "ProgramDescView",
    "program_to_proto",
    "program_to_bytes",
    "parse_program_desc",
    "prepare_for_test",
    "drop_unreachable_blocks",
    "feed_target_names",
    "fetch_target_names",
]

# op_role bits (Paddle's OpRole): Backward = 1, Optimize = 2, Loss = 256.
_TRAINING_ROLES = 0x0001 | 0x0002
_BACKWARD_LOSS = 0x0001 | 0x0100


def program_to_proto(program: Program) -> pb.ProgramDesc:
    """Assemble the ProgramDesc message of ``program`` (a fresh copy; the program is unchanged)."""
    message = pb.ProgramDesc()
    message.CopyFrom(program._proto)
    for block in program.blocks:
        out = message.blocks.add()
        out.CopyFrom(block._proto)
        out.vars.extend(var._proto for var in block.vars.values())
        out.ops.extend(op._proto for op in block.ops)
    return message


def program_to_bytes(program: Program) -> bytes:
    """The ProgramDesc bytes of ``program`` (what ``__model__`` holds)."""
    # Partial: a hand-built program may lack a required field Paddle would also leave unset;
    # PROG-SER-001 asks for the bytes as they are, not for a validation pass.
    return program_to_proto(program).SerializePartialToString()


def parse_program_desc(binary: bytes | bytearray | memoryview, *, path: object = None
                       ) -> pb.ProgramDesc:
    """The ProgramDesc message in ``binary``; BAD_PROGRAM when the bytes are not a usable
    ProgramDesc (INF-LOAD-001).  ``Program.parse_from_string`` builds the Program from it."""
    try:
        message = pb.ProgramDesc.FromString(bytes(binary))
    except DecodeError as exc:
        raise BadProgramError(
            f"not a parseable ProgramDesc ({exc})", path=path, expected="ProgramDesc protobuf",
            found=f"{len(binary)} bytes starting {bytes(binary[:8]).hex()}",
        ) from None
    _check_structure(message, path)
    return message


def _check_structure(message: pb.ProgramDesc, path: object) -> None:
    """The minimum a ProgramDesc needs to become a Program (INF-LOAD-001)."""
    if not message.blocks:
        raise BadProgramError("the ProgramDesc has no blocks", path=path,
                              expected="at least the global block", found="0 blocks")
    for position, block in enumerate(message.blocks):
        if block.idx != position:
            raise BadProgramError(
                "block idx differs from its position", path=path,
                expected=f"idx {position}", found=f"idx {block.idx}",
            )
        if not -1 <= block.parent_idx < len(message.blocks) or block.parent_idx == position:
            raise BadProgramError(
                f"block {position} has an impossible parent", path=path,
                expected=f"-1 <= parent_idx < {len(message.blocks)}, not itself",
                found=block.parent_idx,
            )
        seen: set[str] = set()
        for var in block.vars:
            if not var.HasField("name") or not var.HasField("type"):
                raise BadProgramError(
                    f"a VarDesc of block {position} lacks its name or type", path=path,
                    var=var.name or None, expected="name and type", found=str(var)[:80],
                )
            if var.name in seen:
                raise BadProgramError(
                    f"block {position} declares a variable twice", path=path, var=var.name,
                    expected="unique names", found="a duplicate",
                )
            seen.add(var.name)
        for op in block.ops:
            if not op.HasField("type"):
                raise BadProgramError(f"an OpDesc of block {position} has no type", path=path,
                                      expected="an op type", found=str(op)[:80])
            for attr in op.attrs:
                if attr.type == pb.BLOCK and not 0 <= attr.block_idx < len(message.blocks):
                    raise BadProgramError(
                        f"op {op.type!r} refers to a missing block", path=path,
                        expected=f"0 <= block_idx < {len(message.blocks)}", found=attr.block_idx,
                    )


def prepare_for_test(program: Program) -> None:
    """``clone(for_test=True)``'s changes to the copy: backward and optimize ops go, every op
    with an ``is_test`` attribute gets it set (API-MODEL-007)."""
    _prune_training(program)
    for block in program.blocks:
        for op in block.ops:
            if op.has_attr("is_test"):
                op._set_attr("is_test", True)


def _reachable_blocks(program: Program, ops: Sequence[Operator]) -> set[int]:
    keep = {0}
    pending = [i for op in ops for i in op._sub_block_ids()]
    while pending:
        idx = pending.pop()
        if idx in keep:
            continue
        keep.add(idx)
        block = program.block(idx)
        if block.parent_idx >= 0:
            pending.append(block.parent_idx)
        pending.extend(i for op in block.ops for i in op._sub_block_ids())
    return keep


def drop_unreachable_blocks(program: Program) -> None:
    """Remove sub-blocks no kept op runs, renumbering block indices in attrs and parents."""
    keep = sorted(_reachable_blocks(program, program.global_block().ops))
    if len(keep) == len(program.blocks):
        return
    renumber = {old: new for new, old in enumerate(keep)}
    program.blocks = [program.blocks[i] for i in keep]
    for block in program.blocks:
        block._proto.idx = renumber[block.idx]
        if block.parent_idx >= 0:
            block._proto.parent_idx = renumber[block.parent_idx]
        for op in block.ops:
            for attr in op._proto.attrs:
                if attr.HasField("block_idx"):
                    attr.block_idx = renumber[attr.block_idx]
                if attr.blocks_idx:
                    attr.blocks_idx[:] = [renumber[i] for i in attr.blocks_idx]


def _role(op: Operator) -> int:
    return int(op.attr("op_role")) if op.has_attr("op_role") else 0


def _prune_training(program: Program) -> None:
    """API-MODEL-007: drop backward/optimize ops once the program has a loss-gradient op.

    Measured on Paddle 2.6.2: only a program holding an op whose ``op_role`` is Backward|Loss
    (257) is pruned; then every op with the Backward or Optimize bit goes, and the global block
    keeps only the variables the remaining ops use.
    """
    glob = program.global_block()
    if not any(_role(op) == _BACKWARD_LOSS for op in glob.ops):
        return
    for block in program.blocks:
        block.ops = [op for op in block.ops if not _role(op) & _TRAINING_ROLES]
    used: set[str] = set()
    for block in program.blocks:
        for op in block.ops:
            used.update(op.input_arg_names)
            used.update(op.output_arg_names)
    for name in [n for n in glob.vars if n not in used]:
        glob._remove_var(name)
    drop_unreachable_blocks(program)  # the gradient blocks of control-flow ops go too


def _ordered_by_col(program: Program, op_type: str, slot_kind: str, slot: str) -> list[str]:
    found: list[tuple[int, str]] = []
    for op in program.global_block().ops:
        if op.type != op_type:
            continue
        args = op.output(slot) if slot_kind == "out" else op.input(slot)
        if not args or not op.has_attr("col"):
            raise BadProgramError(
                f"a {op_type} op lacks its {slot} argument or its col attribute",
                expected=f"{slot}=[name] and col", found=repr(op),
            )
        found.append((int(op.attr("col")), args[0]))
    cols = [c for c, _ in found]
    if sorted(cols) != list(range(len(cols))):
        raise BadProgramError(
            f"the {op_type} ops' col attributes are not 0..n-1", expected=list(range(len(cols))),
            found=sorted(cols),
        )
    return [name for _, name in sorted(found)]


def feed_target_names(program: Program) -> list[str]:
    """Feed targets ordered by the feed ops' ``col`` (INF-LOAD-003)."""
    return _ordered_by_col(program, "feed", "out", "Out")


def fetch_target_names(program: Program) -> list[str]:
    """Fetch targets ordered by the fetch ops' ``col`` (INF-LOAD-003)."""
    return _ordered_by_col(program, "fetch", "in", "X")


class ProgramDescView:
    """``program.desc``: the few C++ ProgramDesc methods Fluid scripts call."""

    def __init__(self, program: Program) -> None:
        self._program = program

    def serialize_to_string(self) -> bytes:
        return program_to_bytes(self._program)

    def get_feed_target_names(self) -> list[str]:
        return feed_target_names(self._program)

    def get_fetch_target_names(self) -> list[str]:
        return fetch_target_names(self._program)

    def num_blocks(self) -> int:
        return len(self._program.blocks)

    def _version(self) -> int:
        return self._program._version()

    def _set_version(self, version: int) -> None:
        self._program._proto.version.version = int(version)
