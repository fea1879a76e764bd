"""save_inference_model / load_inference_model (chapter ``inference``), numba_kernels' own.

Pruning and feed/fetch insertion work on a copy of the caller's program (INF-SAVE-009) through
the shared data model (Program/Block/Operator); the ProgramDesc bytes come from the data model's
serializer, the parameters from ``numba_kernels._io`` (save/load_persistables).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from fluidspec.numba_kernels import _files, _fluid
from fluidspec.numba_kernels._io import _save, is_persistable, load_vars
from fluidspec.spec import PADDLE_2_6_2_PROGRAM_VERSION, PROGRAM_ONLY_WARNING, VarType
from fluidspec.spec import framework_pb2 as pb
from fluidspec.spec.errors import (
    BadProgramError,
    FluidSpecError,
    InvalidArgumentError,
    MissingFileError,
)


def _feed_names(feeded_var_names: Any) -> list[str]:
    """INF-SAVE-001: a str or a list/tuple of str."""
    if isinstance(feeded_var_names, str):
        return [feeded_var_names]
    if isinstance(feeded_var_names, (list, tuple)) and all(
            isinstance(n, str) for n in feeded_var_names):
        return list(feeded_var_names)
    raise InvalidArgumentError("feeded_var_names must be a str or a list of str",
                               expected="str or list[str]", found=repr(feeded_var_names)[:80])


def _targets(target_vars: Any, program: Any) -> list[Any]:
    """INF-SAVE-001: a Variable or a non-empty list/tuple of global-block Variables."""
    targets = [target_vars] if _fluid.kind_of(target_vars, "Variable") else target_vars
    if not isinstance(targets, (list, tuple)) or not targets or not all(
            _fluid.kind_of(t, "Variable") for t in targets):
        raise InvalidArgumentError("target_vars must be a Variable or a non-empty list of them",
                                   expected="Variable or list[Variable]",
                                   found=repr(target_vars)[:80])
    glob = program.global_block()
    for t in targets:
        if not glob.has_var(t.name):
            raise InvalidArgumentError("a target is not declared in the program's global block",
                                       var=t.name, expected="a global-block variable",
                                       found="no such variable")
    return list(targets)


def _basename(filename: Any, what: str) -> str:
    """INF-SAVE-008: only the basename is used; SEL-PATH-001 judges it."""
    if not isinstance(filename, str):
        raise InvalidArgumentError(f"{what} must be a str", expected="str",
                                   found=type(filename).__name__)
    base = os.path.basename(filename)
    _files.safe_components(base, what)
    return base


def _block_vars(program: Any, idx: int, seen: set[int]) -> set[str]:
    """Every name the ops of block ``idx`` and of the blocks they run read or write."""
    names: set[str] = set()
    if idx in seen:
        return names
    seen.add(idx)
    for op in program.block(idx).ops:
        names.update(op.input_arg_names)
        names.update(op.output_arg_names)
        for sub in op._sub_block_ids():
            names |= _block_vars(program, sub, seen)
    return names


def _prune(program: Any, feeds: list[str], targets: list[str]) -> None:
    """INF-SAVE-002/003 on ``program`` (a copy): keep what the targets need, cut at the feeds."""
    glob = program.global_block()
    needed = set(targets)
    feed_set = set(feeds)
    kept = []
    for op in reversed([op for op in glob.ops if op.type not in ("feed", "fetch")]):
        if op.type == "read":  # INF-SAVE-003
            continue
        if any(name in needed and name not in feed_set for name in op.output_arg_names):
            kept.append(op)
            needed.update(op.input_arg_names)
            for sub in op._sub_block_ids():
                needed |= _block_vars(program, sub, set())
    kept.reverse()
    glob.ops = kept
    # sub-blocks no kept op runs go; the rest are renumbered (INF-SAVE-002)
    reachable: set[int] = {0}
    stack = [0]
    while stack:
        for op in program.block(stack.pop()).ops:
            for sub in op._sub_block_ids():
                if sub not in reachable and 0 <= sub < len(program.blocks):
                    reachable.add(sub)
                    stack.append(sub)
    if len(reachable) != len(program.blocks):
        _renumber(program, sorted(reachable))
    referenced = set(targets)
    for op in kept:
        referenced.update(op.input_arg_names)
        referenced.update(op.output_arg_names)
        for sub in op._sub_block_ids():
            referenced |= _block_vars(program, sub, set())
    for name in [n for n in glob.vars if n not in referenced]:
        glob._remove_var(name)
    for name in feeds:
        if not glob.has_var(name):
            raise InvalidArgumentError(
                f"The feeded_var_names {name!r} doesn't exist in the pruned inference program",
                var=name, expected="a variable the targets depend on", found="pruned away")
    for block in program.blocks:  # INF-SAVE-003
        for op in block.ops:
            if op.has_attr("is_test"):
                op._set_attr("is_test", True)


def _renumber(program: Any, keep: list[int]) -> None:
    new_index = {old: new for new, old in enumerate(keep)}
    blocks = [program.blocks[i] for i in keep]
    for block in blocks:
        block._proto.idx = new_index[block._proto.idx]
        if block._proto.parent_idx >= 0:
            block._proto.parent_idx = new_index.get(block._proto.parent_idx, -1)
        for op in block.ops:
            for attr in op._proto.attrs:
                if attr.type == pb.BLOCK:
                    attr.block_idx = new_index[attr.block_idx]
                elif attr.type == pb.BLOCKS:
                    attr.blocks_idx[:] = [new_index[i] for i in attr.blocks_idx]
    program.blocks = blocks


def _deployable(program: Any, feeds: list[str], targets: list[str]) -> Any:
    """The saved inference program (INF-SAVE-002..007), built on a copy (INF-SAVE-009)."""
    pruned = program.clone()
    _prune(pruned, feeds, targets)
    glob = pruned.global_block()
    for block in pruned.blocks:  # INF-SAVE-006
        for var in block.vars.values():
            var._proto.is_parameter = False
            var._proto.stop_gradient = False
    ordered = sorted(glob.vars)
    glob.vars = type(glob.vars)((name, glob.vars[name]) for name in ordered)
    if feeds:  # INF-SAVE-004: prepended one by one, so stored in reverse col order
        glob.create_var(name="feed", type=VarType.FEED_MINIBATCH, persistable=True)
        for col, name in enumerate(feeds):
            glob._prepend_op(type="feed", inputs={"X": ["feed"]}, outputs={"Out": [name]},
                             attrs={"col": col})
    glob.create_var(name="fetch", type=VarType.FETCH_LIST, persistable=True)  # INF-SAVE-005
    for col, name in enumerate(targets):
        glob.append_op(type="fetch", inputs={"X": [name]}, outputs={"Out": ["fetch"]},
                       attrs={"col": col})
    pruned._proto.version.version = PADDLE_2_6_2_PROGRAM_VERSION  # INF-SAVE-007
    pruned._proto.ClearField("op_version_map")
    return pruned


# Fluid 1.x's public signature, argument for argument (INF-SAVE-*), hence its length.
def save_inference_model(dirname: Any, feeded_var_names: Any, target_vars: Any, executor: Any,
                         main_program: Any = None, model_filename: Any = None,
                         params_filename: Any = None, export_for_deployment: bool = True,
                         program_only: bool = False) -> Any:
    """Write a pruned inference program and its persistables (chapter ``inference``).

    Returns the target names; with ``dirname=None`` returns ``(model_bytes, params_bytes)``
    instead (INF-SAVE-010).
    """
    feeds = _feed_names(feeded_var_names)
    program = (_fluid.namespace(target_vars).default_main_program() if main_program is None
               else main_program)
    if not _fluid.kind_of(program, "Program"):
        raise InvalidArgumentError("main_program must be a Program or None", expected="Program",
                                   found=type(program).__name__)
    targets = _targets(target_vars, program)
    target_names = [t.name for t in targets]
    model_name = "__model__" if model_filename is None else _basename(model_filename,
                                                                      "model_filename")
    params_name = None if params_filename is None else _basename(params_filename,
                                                                 "params_filename")
    if export_for_deployment:
        saved = _deployable(program, feeds, target_names)
    else:  # INF-SAVE-011
        saved = program.clone()
        model_name = f"{model_name}.main_program"
    model = saved.desc.serialize_to_string()
    if dirname is None:  # INF-SAVE-010: nothing is written, so nothing to warn about
        params = None if program_only else _save(None, saved, None, is_persistable, None)
        return model, params
    if program_only:  # INF-SAVE-012
        warnings.warn(PROGRAM_ONLY_WARNING, UserWarning, stacklevel=2)
    root = _files.checked_dirname(dirname)
    if not program_only:  # checked, encoded and written before the model (SEL-SAVE-008)
        _save(root, saved, None, is_persistable, params_name)
    _files.write_file(os.path.join(root, model_name), model)
    return target_names


def _prefer(root: str, name: str, suffix: str) -> str:
    """INF-LOAD-002: ``<name><suffix>`` when that file exists, else ``name``."""
    with_suffix = os.path.join(root, name + suffix)
    return with_suffix if os.path.isfile(with_suffix) else os.path.join(root, name)


def load_inference_model(dirname: Any, executor: Any, model_filename: Any = None,
                         params_filename: Any = None, pserver_endpoints: Any = None) -> list[Any]:
    """``[program, feed_target_names, fetch_targets]`` (INF-LOAD-001..006)."""
    if dirname is None:  # INF-LOAD-005
        if not isinstance(model_filename, (bytes, bytearray, memoryview)) or not isinstance(
                params_filename, (bytes, bytearray, memoryview)):
            raise InvalidArgumentError(
                "without a dirname, model_filename and params_filename must be bytes",
                expected="bytes, bytes",
                found=f"{type(model_filename).__name__}, {type(params_filename).__name__}")
        program = _parse_program(executor, model_filename)
        result = _result(program, None)
        load_vars(executor, None, program, None, is_persistable, params_filename)
        return result
    root = _files.checked_dirname(dirname)
    params_name: str | None
    if not os.path.isdir(root):
        prefix_model = root + ".pdmodel"
        if model_filename is None and params_filename is None and os.path.isfile(prefix_model):
            model_path = prefix_model  # INF-LOAD-006
            root, params_name = os.path.dirname(root) or ".", os.path.basename(root) + ".pdiparams"
        else:
            raise MissingFileError("the model directory does not exist", path=root,
                                   expected="a directory", found="nothing")
    else:
        model_path = (os.path.join(root, "__model__") if model_filename is None else
                      _prefer(root, _basename(model_filename, "model_filename"), ".pdmodel"))
        params_name = None
        if params_filename is not None:
            base = _basename(params_filename, "params_filename")
            params_name = os.path.basename(_prefer(root, base, ".pdiparams"))
    data = _files.read_file(model_path)
    program = _parse_program(executor, data.tobytes(), model_path)
    # Targets that do not resolve make the model unusable: found before any parameter is read.
    result = _result(program, model_path)
    load_vars(executor, root, program, None, is_persistable, params_name)
    return result


def _parse_program(executor: Any, binary: Any, path: str | None = None) -> Any:
    """``Program.parse_from_string`` of the executor's Fluid namespace; a BAD_PROGRAM names the
    file it came from."""
    try:
        return _fluid.namespace(executor).Program.parse_from_string(bytes(binary))
    except FluidSpecError as err:
        if path is not None and getattr(err, "path", None) is None:
            err.path = path
        raise


def _result(program: Any, path: str | None) -> list[Any]:
    """``[program, feeds, fetches]``; a BAD_PROGRAM names the model file (INF-LOAD-001)."""
    try:
        feeds = program.desc.get_feed_target_names()  # INF-LOAD-003: ordered by col
        fetch_names = program.desc.get_fetch_target_names()
    except FluidSpecError as err:
        raise err.with_context(path=path) from None
    glob = program.global_block()
    for name in [*feeds, *fetch_names]:
        if not glob.has_var(name):
            raise BadProgramError("a feed/fetch target is not a variable of the global block",
                                  path=path, var=name, expected="a declared variable",
                                  found="none")
    return [program, feeds, [glob.var(name) for name in fetch_names]]
