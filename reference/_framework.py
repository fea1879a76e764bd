"""Programs, Blocks, Variables, Parameters and Operators — Fluid's static-graph data model.

Each Variable and Operator keeps its own protobuf message (``VarDesc`` / ``OpDesc`` of
``spec/framework.proto``) as the one place its state lives; the Python attributes are views
onto it.  That is what makes a Program parsed from Paddle's bytes serialize back to the same
bytes (PROG-SER-001): nothing is re-derived, fields that fluidspec does not model and unknown
fields simply stay in the message.  ``reference/_program_desc.py`` assembles and splits the
ProgramDesc; this module is the object model users program against (API-MODEL-*).
"""

from __future__ import annotations

import contextlib
import itertools
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from fluidspec import spec
from fluidspec.reference._program_desc import (
    ProgramDescView,
    parse_program_desc,
    prepare_for_test,
    program_to_proto,
)
from fluidspec.spec import TENSOR_DESC_FIELDS, VarType
from fluidspec.spec import framework_pb2 as pb
from fluidspec.spec.errors import InvalidArgumentError

__all__ = [
    "VarType",
    "VarDesc",
    "Variable",
    "Parameter",
    "Operator",
    "Block",
    "Program",
    "default_main_program",
    "default_startup_program",
    "program_guard",
    "switch_main_program",
    "switch_startup_program",
    "resolve_dtype",
    "TENSOR_KINDS",
]

#: The variable kinds whose declared shape, dtype and LoD level a Variable keeps, and the VarType
#: field that holds them (API-MODEL-003).
TENSOR_KINDS: dict[int, str] = {
    kind: TENSOR_DESC_FIELDS[kind]
    for kind in (VarType.LOD_TENSOR, VarType.SELECTED_ROWS, VarType.LOD_TENSOR_ARRAY)
}

_unique_ids = itertools.count()

# ``VarType(code)`` goes through the Enum machinery (~0.5 µs); a load of 10,000 variables asks
# for kinds and dtypes tens of thousands of times.
_VAR_TYPE_BY_CODE: dict[int, VarType] = {int(t): t for t in VarType}


def _var_type(code: int) -> VarType:
    found = _VAR_TYPE_BY_CODE.get(code)
    return found if found is not None else VarType(code)  # an unknown code: Enum's ValueError


class VarDesc:
    """``fluid.core.VarDesc``: only its ``VarType`` namespace is public API (API-MODEL-003)."""

    VarType = VarType


def resolve_dtype(dtype: Any) -> int:
    """An element-type code from a Paddle name, a numpy dtype or a VarType (API-MODEL-004)."""
    try:
        return spec.element_type_for_name(dtype).code
    except (KeyError, TypeError):
        raise InvalidArgumentError(
            "unknown dtype", expected="a dtype name, numpy dtype or VarType element type",
            found=repr(dtype),
        ) from None


# --------------------------------------------------------------------------------------------
# Variables


class _VarDescView:
    """``var.desc``: the Paddle-style accessor methods over a Variable's VarDesc message."""

    def __init__(self, var: Variable) -> None:
        self._var = var

    def name(self) -> str:
        return self._var.name

    def type(self) -> VarType:
        return self._var.type

    def shape(self) -> list[int]:
        return list(self._var.shape)

    get_shape = shape

    def dtype(self) -> VarType | None:
        return self._var.dtype

    def persistable(self) -> bool:
        return self._var.persistable

    def set_persistable(self, value: bool) -> None:
        self._var.persistable = value

    def need_check_feed(self) -> bool:
        return self._var.need_check_feed

    def serialize_to_string(self) -> bytes:
        return self._var._proto.SerializePartialToString()


class Variable:
    """A named slot of a Block: its kind, declared shape/dtype, LoD level and persistability.

    A Variable holds no value — values live in a Scope (API-SCOPE-001).  Create one with
    ``Block.create_var``; the attributes read and write the VarDesc message directly, except
    the name, the kind and the declared shape and element type, which nothing changes once
    declared: they are read from it once.
    """

    def __init__(self, block: Block, proto: pb.VarDesc) -> None:
        self.block = block
        self._proto = proto
        # A protobuf field read makes a new Python object each time (~0.3 µs for the kind);
        # a save or load of 10,000 variables asks for each several times.
        self._name: str = proto.name
        self._kind: VarType | None = _VAR_TYPE_BY_CODE.get(proto.type.type)
        desc = self._tensor_desc()  # declared dims and element type: fixed at declaration too
        self._shape: tuple[int, ...] = tuple(desc.dims) if desc is not None else ()
        self._dtype_code: int | None = (desc.data_type if desc is not None
                                        and desc.HasField("data_type") else None)

    # -- identity and kind
    @property
    def name(self) -> str:
        return self._name

    @property
    def type(self) -> VarType:
        kind = self._kind
        return kind if kind is not None else _var_type(self._proto.type.type)  # unknown: raises

    @property
    def desc(self) -> _VarDescView:
        return _VarDescView(self)

    def _tensor_desc(self) -> pb.VarType.TensorDesc | None:
        """The TensorDesc this Variable's kind keeps, when its VarDesc has one (else None)."""
        kind = self._proto.type
        field = TENSOR_KINDS.get(kind.type)
        if field is None or not kind.HasField(field):
            return None
        holder = getattr(kind, field)
        return holder if field == "selected_rows" else holder.tensor

    # -- declared tensor description
    @property
    def shape(self) -> tuple[int, ...]:
        """The declared dims (``-1`` = any); ``()`` for kinds without a TensorDesc."""
        return self._shape

    @property
    def dtype(self) -> VarType | None:
        """The declared element type; None for kinds without one."""
        code = self._dtype_code
        return None if code is None else _var_type(code)

    @property
    def lod_level(self) -> int:
        kind = self._proto.type
        if kind.type == VarType.LOD_TENSOR and kind.HasField("lod_tensor"):
            return kind.lod_tensor.lod_level
        if kind.type == VarType.LOD_TENSOR_ARRAY and kind.HasField("tensor_array"):
            return kind.tensor_array.lod_level
        return 0

    # -- flags: assignment writes the field only when the value changes, so a parsed
    # VarDesc keeps its exact bytes when a program merely reads it (PROG-SER-001).
    def _get_flag(self, field: str) -> bool:
        return bool(getattr(self._proto, field))

    def _set_flag(self, field: str, value: bool) -> None:
        if getattr(self._proto, field) != bool(value) or not self._proto.HasField(field):
            setattr(self._proto, field, bool(value))

    @property
    def persistable(self) -> bool:
        return self._get_flag("persistable")

    @persistable.setter
    def persistable(self, value: bool) -> None:
        self._set_flag("persistable", value)

    @property
    def stop_gradient(self) -> bool:
        return self._get_flag("stop_gradient")

    @stop_gradient.setter
    def stop_gradient(self, value: bool) -> None:
        self._set_flag("stop_gradient", value)

    @property
    def need_check_feed(self) -> bool:
        return self._get_flag("need_check_feed")

    def __repr__(self) -> str:
        kind = self.type.name
        extra = f", shape={list(self.shape)}, dtype={self.dtype.name}" if self.dtype is not None else ""
        return (
            f"{type(self).__name__}(name={self.name!r}, type={kind}{extra}, "
            f"persistable={self.persistable})"
        )

    __str__ = __repr__


class Parameter(Variable):
    """A trainable, persistable Variable created by ``Block.create_parameter`` (API-MODEL-002).

    ``fluid.io.is_parameter`` is ``isinstance(var, Parameter)``; loads shape-check Parameters
    only (SEL-LOAD-002).
    """

    def __init__(self, block: Block, proto: pb.VarDesc, trainable: bool = True) -> None:
        super().__init__(block, proto)
        self.trainable = trainable


def _build_var_desc(
    name: str, kind: int, shape: Sequence[int] | None, dtype: Any, lod_level: int,
    persistable: bool, stop_gradient: bool, need_check_feed: bool,
) -> pb.VarDesc:
    if not isinstance(name, str):
        raise InvalidArgumentError("a variable name must be a str", expected="str",
                                   found=type(name).__name__)
    try:
        proto = pb.VarDesc(name=name)
    except (UnicodeEncodeError, ValueError):  # VarDesc.name is a protobuf string: UTF-8 only
        raise InvalidArgumentError("a variable name must be valid Unicode text",
                                   expected="a UTF-8 encodable str", found=repr(name)) from None
    proto.type.type = kind
    field = TENSOR_KINDS.get(kind)
    if field is not None:
        holder = getattr(proto.type, field)
        desc = holder if field == "selected_rows" else holder.tensor
        # A tensor kind always gets a TensorDesc with its required data_type: float32 when no
        # dtype is given, so every program we write parses in Paddle (API-MODEL-004).
        desc.data_type = resolve_dtype("float32" if dtype is None else dtype)
        desc.dims.extend(int(d) for d in (shape or []))
        if field != "selected_rows":
            holder.lod_level = int(lod_level)
    elif shape is not None and list(shape):
        raise InvalidArgumentError(
            f"a {VarType(kind).name} variable has no shape", var=name,
            expected="shape=None", found=list(shape),
        )
    proto.persistable = bool(persistable)
    if need_check_feed:
        proto.need_check_feed = True
    if stop_gradient:
        proto.stop_gradient = True
    return proto


def _check_redeclaration(
    var: Variable, kind: int, shape: Sequence[int] | None, dtype: Any, lod_level: int | None,
    persistable: bool | None,
) -> None:
    """API-MODEL-002: a second create_var of a name must agree with the first."""
    checks = [("type", var.type.name, VarType(kind).name)]
    if shape is not None:
        checks.append(("shape", var.shape, tuple(int(d) for d in shape)))
    if dtype is not None and var.dtype is not None:
        checks.append(("dtype", var.dtype.name, VarType(resolve_dtype(dtype)).name))
    if lod_level is not None:
        checks.append(("lod_level", var.lod_level, int(lod_level)))
    if persistable is not None:
        checks.append(("persistable", var.persistable, bool(persistable)))
    for what, before, now in checks:
        if before != now:
            raise InvalidArgumentError(
                f"variable {var.name!r} was created before with another {what}", var=var.name,
                expected=before, found=now,
            )


# --------------------------------------------------------------------------------------------
# Operators


def _attr_from_python(name: str, value: Any) -> pb.OpDesc.Attr:
    """Encode a Python attribute value, choosing the AttrType from the value (API-MODEL-006)."""
    attr = pb.OpDesc.Attr(name=name)
    if isinstance(value, Block):
        attr.type, attr.block_idx = pb.BLOCK, value.idx
    elif isinstance(value, (bool, np.bool_)):
        attr.type, attr.b = pb.BOOLEAN, bool(value)
    elif isinstance(value, (int, np.integer)):
        if -(2**31) <= int(value) < 2**31:
            attr.type, attr.i = pb.INT, int(value)
        else:
            attr.type, attr.l = pb.LONG, int(value)
    elif isinstance(value, (float, np.floating)):
        attr.type, attr.f = pb.FLOAT, float(value)
    elif isinstance(value, str):
        attr.type, attr.s = pb.STRING, value
    elif isinstance(value, (list, tuple)):
        items = list(value)
        if items and all(isinstance(v, Block) for v in items):
            attr.type = pb.BLOCKS
            attr.blocks_idx.extend(v.idx for v in items)
        elif items and all(isinstance(v, (bool, np.bool_)) for v in items):
            attr.type = pb.BOOLEANS
            attr.bools.extend(bool(v) for v in items)
        elif all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
            if all(-(2**31) <= int(v) < 2**31 for v in items):
                attr.type = pb.INTS
                attr.ints.extend(int(v) for v in items)
            else:
                attr.type = pb.LONGS
                attr.longs.extend(int(v) for v in items)
        elif all(isinstance(v, (int, float, np.integer, np.floating)) for v in items):
            attr.type = pb.FLOATS
            attr.floats.extend(float(v) for v in items)
        elif all(isinstance(v, str) for v in items):
            attr.type = pb.STRINGS
            attr.strings.extend(items)
        else:
            raise InvalidArgumentError(
                f"attribute {name!r} mixes element types", expected="a homogeneous list",
                found=repr(items)[:80],
            )
    else:
        raise InvalidArgumentError(
            f"attribute {name!r} has an unsupported type", expected="bool/int/float/str/Block "
            "or a list of them", found=type(value).__name__,
        )
    return attr


def _scalar_value(scalar: pb.Scalar) -> Any:
    if scalar.type == pb.Scalar.BOOLEAN:
        return scalar.b
    if scalar.type == pb.Scalar.LONG:
        return scalar.i
    if scalar.type == pb.Scalar.FLOAT64:
        return scalar.r
    return complex(scalar.c.r, scalar.c.i)


def _attr_to_python(attr: pb.OpDesc.Attr) -> Any:
    """Decode an attribute; BLOCK/BLOCKS decode to block indices."""
    kind = attr.type
    simple = {
        pb.INT: "i", pb.FLOAT: "f", pb.STRING: "s", pb.BOOLEAN: "b", pb.BLOCK: "block_idx",
        pb.LONG: "l", pb.VAR: "var_name", pb.FLOAT64: "float64",
    }
    repeated = {
        pb.INTS: "ints", pb.FLOATS: "floats", pb.STRINGS: "strings", pb.BOOLEANS: "bools",
        pb.BLOCKS: "blocks_idx", pb.LONGS: "longs", pb.FLOAT64S: "float64s", pb.VARS: "vars_name",
    }
    if kind in simple:
        return getattr(attr, simple[kind])
    if kind in repeated:
        return list(getattr(attr, repeated[kind]))
    if kind == pb.SCALAR:
        return _scalar_value(attr.scalar)
    return [_scalar_value(s) for s in attr.scalars]


def _arg_names(items: Any) -> list[str]:
    """Slot arguments given as a Variable, a name, or a list of either (API-MODEL-005)."""
    if items is None:
        return []
    if isinstance(items, (Variable, str)):
        items = [items]
    names = []
    for item in items:
        if isinstance(item, Variable):
            names.append(item.name)
        elif isinstance(item, str):
            names.append(item)
        else:
            raise InvalidArgumentError(
                "an operator argument must be a Variable or a variable name",
                expected="Variable or str", found=type(item).__name__,
            )
    return names


class Operator:
    """One operation of a Block: a type, named input/output slots and attributes.

    Any op type is accepted (API-MODEL-005): saved programs hold gradient and optimizer ops
    that the reference executor never runs.
    """

    def __init__(self, block: Block, proto: pb.OpDesc) -> None:
        self.block = block
        self._proto = proto

    @property
    def type(self) -> str:
        return self._proto.type

    def input(self, slot: str) -> list[str]:
        return [a for v in self._proto.inputs if v.parameter == slot for a in v.arguments]

    def output(self, slot: str) -> list[str]:
        return [a for v in self._proto.outputs if v.parameter == slot for a in v.arguments]

    @property
    def input_names(self) -> list[str]:
        return [v.parameter for v in self._proto.inputs]

    @property
    def output_names(self) -> list[str]:
        return [v.parameter for v in self._proto.outputs]

    @property
    def input_arg_names(self) -> list[str]:
        return [a for v in self._proto.inputs for a in v.arguments]

    @property
    def output_arg_names(self) -> list[str]:
        return [a for v in self._proto.outputs for a in v.arguments]

    @property
    def attr_names(self) -> list[str]:
        return [a.name for a in self._proto.attrs]

    def has_attr(self, name: str) -> bool:
        return any(a.name == name for a in self._proto.attrs)

    def attr(self, name: str) -> Any:
        for a in self._proto.attrs:
            if a.name == name:
                return _attr_to_python(a)
        raise InvalidArgumentError(
            f"operator {self.type!r} has no attribute {name!r}", expected="one of "
            f"{self.attr_names}", found=name,
        )

    def all_attrs(self) -> dict[str, Any]:
        return {a.name: _attr_to_python(a) for a in self._proto.attrs}

    def _set_attr(self, name: str, value: Any) -> None:
        new = _attr_from_python(name, value)
        for a in self._proto.attrs:
            if a.name == name:
                if a != new:
                    a.CopyFrom(new)
                return
        self._proto.attrs.append(new)

    def _sub_block_ids(self) -> list[int]:
        """Indices of the blocks this op runs (its BLOCK and BLOCKS attributes)."""
        ids: list[int] = []
        for a in self._proto.attrs:
            if a.type == pb.BLOCK:
                ids.append(a.block_idx)
            elif a.type == pb.BLOCKS:
                ids.extend(a.blocks_idx)
        return ids

    def _rename_input(self, old: str, new: str) -> None:
        for v in self._proto.inputs:
            for i, a in enumerate(v.arguments):
                if a == old:
                    v.arguments[i] = new

    def __repr__(self) -> str:
        ins = {v.parameter: list(v.arguments) for v in self._proto.inputs}
        outs = {v.parameter: list(v.arguments) for v in self._proto.outputs}
        return f"Operator({self.type!r}, inputs={ins}, outputs={outs})"


def _build_op_desc(
    type: str, inputs: Mapping[str, Any] | None, outputs: Mapping[str, Any] | None,
    attrs: Mapping[str, Any] | None,
) -> pb.OpDesc:
    if not isinstance(type, str) or not type:
        raise InvalidArgumentError("an operator needs a type", expected="a non-empty str",
                                   found=repr(type))
    proto = pb.OpDesc(type=type)
    for slot, args in (inputs or {}).items():
        proto.inputs.add(parameter=slot, arguments=_arg_names(args))
    for slot, args in (outputs or {}).items():
        proto.outputs.add(parameter=slot, arguments=_arg_names(args))
    for name, value in (attrs or {}).items():
        if value is None:
            continue
        proto.attrs.append(_attr_from_python(name, value))
    return proto


# --------------------------------------------------------------------------------------------
# Blocks and Programs


class Block:
    """A scope of Variables and a list of Operators; block 0 is the global block."""

    def __init__(self, program: Program, proto: pb.BlockDesc) -> None:
        # ``proto`` keeps idx/parent_idx/forward_block_idx and anything unknown; its vars and
        # ops live in the Variable/Operator objects (reassembled by _program_desc).
        self.program = program
        self._proto = proto
        self.vars: OrderedDict[str, Variable] = OrderedDict()
        self.ops: list[Operator] = []

    @property
    def idx(self) -> int:
        return self._proto.idx

    @property
    def parent_idx(self) -> int:
        return self._proto.parent_idx

    @property
    def forward_block_idx(self) -> int:
        return self._proto.forward_block_idx

    @property
    def parent_block(self) -> Block | None:
        return None if self.parent_idx < 0 else self.program.block(self.parent_idx)

    # -- variables
    # Fluid's public signature, argument for argument (API-MODEL-002), hence its length.
    def create_var(
        self, name: str | None = None, shape: Sequence[int] | None = None, dtype: Any = None,
        type: int = VarType.LOD_TENSOR, lod_level: int | None = None,
        persistable: bool | None = None, stop_gradient: bool = False,
        need_check_feed: bool = False, **_ignored: Any,
    ) -> Variable:
        """Create the Variable ``name`` in this block (API-MODEL-002).

        Names are not validated here: Paddle accepts any name in a program, and names are
        checked only when a save or load would use them as paths (SEL-PATH-001).  Declaring
        an existing name again returns the existing Variable when everything given agrees
        with it, and is INVALID_ARGUMENT otherwise, as in Paddle.
        """
        if name is None:
            name = f"_generated_var_{next(_unique_ids)}"
        if name in self.vars:
            existing = self.vars[name]
            _check_redeclaration(existing, int(type), shape, dtype, lod_level, persistable)
            return existing
        proto = _build_var_desc(
            name, int(type), shape, dtype, lod_level or 0, bool(persistable), stop_gradient,
            need_check_feed,
        )
        return self._add_var(Variable(self, proto))

    def create_parameter(
        self, name: str | None = None, shape: Sequence[int] | None = None, dtype: Any = None,
        type: int = VarType.LOD_TENSOR, lod_level: int = 0, trainable: bool = True,
        stop_gradient: bool = False, **_ignored: Any,
    ) -> Parameter:
        """Create a Parameter in the program's global block, as Fluid does (API-MODEL-002)."""
        if shape is None:
            raise InvalidArgumentError("a Parameter needs a shape", var=name,
                                       expected="a list of ints", found=None)
        if name is None:
            name = f"_generated_param_{next(_unique_ids)}"
        glob = self.program.global_block()
        existing = glob.vars.get(name)
        if isinstance(existing, Parameter):
            return existing
        proto = _build_var_desc(name, int(type), shape, dtype, lod_level, True, stop_gradient,
                                False)
        proto.is_parameter = True
        return glob._add_var(Parameter(glob, proto, trainable=trainable))  # type: ignore[return-value]

    def _add_var(self, var: Variable) -> Variable:
        self.vars[var.name] = var
        return var

    def _remove_var(self, name: str) -> None:
        del self.vars[name]

    def var(self, name: str) -> Variable:
        """The Variable ``name`` of this block; INVALID_ARGUMENT when there is none."""
        try:
            return self.vars[name]
        except KeyError:
            raise InvalidArgumentError(
                f"var {name!r} not in this block", var=name, expected=f"a var of block {self.idx}",
                found="no such var",
            ) from None

    def has_var(self, name: str) -> bool:
        return name in self.vars

    def _find_var_recursive(self, name: str) -> Variable | None:
        block: Block | None = self
        while block is not None:
            if name in block.vars:
                return block.vars[name]
            block = block.parent_block
        return None

    def _var_recursive(self, name: str) -> Variable:
        found = self._find_var_recursive(name)
        if found is None:
            raise InvalidArgumentError(f"var {name!r} not found in block {self.idx} or its "
                                       "parents", var=name)
        return found

    def all_parameters(self) -> list[Parameter]:
        return [v for v in self.vars.values() if isinstance(v, Parameter)]

    def iter_parameters(self) -> Iterator[Parameter]:
        return iter(self.all_parameters())

    # -- operators
    def append_op(
        self, type: str, inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None, attrs: Mapping[str, Any] | None = None,
        **_ignored: Any,
    ) -> Operator:
        """Append an operator; slots take Variables or names (API-MODEL-005)."""
        op = Operator(self, _build_op_desc(type, inputs, outputs, attrs))
        self.ops.append(op)
        return op

    def _prepend_op(
        self, type: str, inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None, attrs: Mapping[str, Any] | None = None,
        **_ignored: Any,
    ) -> Operator:
        return self._insert_op(0, type=type, inputs=inputs, outputs=outputs, attrs=attrs)

    def _insert_op(
        self, index: int, type: str, inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None, attrs: Mapping[str, Any] | None = None,
        **_ignored: Any,
    ) -> Operator:
        op = Operator(self, _build_op_desc(type, inputs, outputs, attrs))
        self.ops.insert(index, op)
        return op

    def _remove_op(self, index: int) -> None:
        del self.ops[index]

    def __repr__(self) -> str:
        return f"Block(idx={self.idx}, parent={self.parent_idx}, vars={len(self.vars)}, ops={len(self.ops)})"


class Program:
    """A list of Blocks (block 0 global) plus the ProgramDesc's version and op-version map."""

    def __init__(self) -> None:
        # Everything of the ProgramDesc except its blocks (version, op_version_map, unknown).
        self._proto = pb.ProgramDesc()
        self.blocks: list[Block] = []
        self.current_block_idx = 0
        self._new_block(parent_idx=-1)
        self.random_seed = 0

    def _new_block(self, parent_idx: int) -> Block:
        block = Block(self, pb.BlockDesc(idx=len(self.blocks), parent_idx=parent_idx))
        self.blocks.append(block)
        return block

    def global_block(self) -> Block:
        return self.blocks[0]

    def block(self, index: int) -> Block:
        return self.blocks[index]

    def current_block(self) -> Block:
        return self.blocks[self.current_block_idx]

    @property
    def num_blocks(self) -> int:
        return len(self.blocks)

    def _create_block(self, parent_idx: int | None = None) -> Block:
        """Add a sub-block whose parent is ``parent_idx`` (default: the current block)."""
        parent = self.current_block_idx if parent_idx is None else parent_idx
        block = self._new_block(parent)
        self.current_block_idx = block.idx
        return block

    def _rollback(self) -> None:
        self.current_block_idx = max(self.current_block().parent_idx, 0)

    def list_vars(self) -> Iterator[Variable]:
        """Every Variable of every block: block order, then creation order (SEL-CAND-001)."""
        for block in self.blocks:
            yield from list(block.vars.values())

    def all_parameters(self) -> list[Parameter]:
        return [p for block in self.blocks for p in block.all_parameters()]

    @property
    def desc(self) -> Any:
        """``program.desc``: ``serialize_to_string()``, feed/fetch target names, version."""
        return ProgramDescView(self)

    def _version(self) -> int:
        return int(self._proto.version.version)

    @staticmethod
    def parse_from_string(binary: bytes, *, path: object = None) -> Program:
        """A Program from ProgramDesc bytes (PROG-SER-001; BAD_PROGRAM when unparseable, naming
        ``path`` when given)."""
        return Program._from_desc(parse_program_desc(binary, path=path))

    @staticmethod
    def _from_desc(message: pb.ProgramDesc) -> Program:
        """A Program that owns copies of ``message``'s parts, so that serializing it again gives
        the same bytes (PROG-SER-001)."""
        program = Program.__new__(Program)
        program._proto = pb.ProgramDesc()
        program._proto.CopyFrom(message)
        program._proto.ClearField("blocks")
        program.blocks = []
        program.current_block_idx = 0
        program.random_seed = 0
        for block_message in message.blocks:
            block_proto = pb.BlockDesc()
            block_proto.CopyFrom(block_message)
            block_proto.ClearField("vars")
            block_proto.ClearField("ops")
            block = Block(program, block_proto)
            for var_message in block_message.vars:
                var_proto = pb.VarDesc()
                var_proto.CopyFrom(var_message)
                # A var flagged is_parameter comes back as a Parameter, as in Paddle 2.x; saved
                # inference programs clear the flag, so their vars are plain Variables
                # (INF-LOAD-004).
                cls = Parameter if var_proto.is_parameter else Variable
                block._add_var(cls(block, var_proto))
            for op_message in block_message.ops:
                op_proto = pb.OpDesc()
                op_proto.CopyFrom(op_message)
                block.ops.append(Operator(block, op_proto))
            program.blocks.append(block)
        return program

    def clone(self, for_test: bool = False) -> Program:
        """A deep copy through the ProgramDesc (API-MODEL-007); ``for_test`` drops backward and
        optimize ops and sets ``is_test``."""
        copy = Program._from_desc(program_to_proto(self))
        copy.random_seed = self.random_seed
        for block, original in zip(copy.blocks, self.blocks, strict=True):
            for name, var in block.vars.items():
                source = original.vars[name]
                if isinstance(var, Parameter) and isinstance(source, Parameter):
                    var.trainable = source.trainable
        if for_test:
            prepare_for_test(copy)
        return copy

    def to_string(self, throw_on_error: bool = False, with_details: bool = False) -> str:
        lines = []
        for block in self.blocks:
            lines.append(repr(block))
            lines.extend(f"  {v!r}" for v in block.vars.values())
            lines.extend(f"  {op!r}" for op in block.ops)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Program(blocks={len(self.blocks)})"

    __str__ = to_string


# --------------------------------------------------------------------------------------------
# Default programs (API-MODEL-001)

_main_program = Program()
_startup_program = Program()


def default_main_program() -> Program:
    return _main_program


def default_startup_program() -> Program:
    return _startup_program


def switch_main_program(program: Program) -> Program:
    global _main_program
    previous, _main_program = _main_program, program
    return previous


def switch_startup_program(program: Program) -> Program:
    global _startup_program
    previous, _startup_program = _startup_program, program
    return previous


@contextlib.contextmanager
def program_guard(main_program: Program, startup_program: Program | None = None) -> Iterator[None]:
    """Make ``main_program`` (and ``startup_program``) the defaults inside the ``with``."""
    if not isinstance(main_program, Program):
        raise InvalidArgumentError("program_guard needs a Program", expected="Program",
                                   found=type(main_program).__name__)
    if startup_program is not None and not isinstance(startup_program, Program):
        raise InvalidArgumentError("program_guard needs a Program", expected="Program",
                                   found=type(startup_program).__name__)
    old_main = switch_main_program(main_program)
    old_startup = switch_startup_program(startup_program) if startup_program is not None else None
    try:
        yield
    finally:
        switch_main_program(old_main)
        if old_startup is not None:
            switch_startup_program(old_startup)
