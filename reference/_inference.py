"""save_inference_model / load_inference_model (chapter ``inference``).

Saving prunes a copy of the program to what the targets need given the feeds, frames it with
``feed`` and ``fetch`` ops, writes its ProgramDesc and saves the pruned program's persistables
through ``save_persistables``.  Loading parses the ProgramDesc, loads its persistables through
``load_persistables`` and reads the feed/fetch targets off the ops' ``col`` attributes.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

from fluidspec.reference import _files
from fluidspec.reference._framework import Block, Operator, Program, Variable
from fluidspec.reference._io import _valid_program, is_persistable, load_persistables, plan_save
from fluidspec.reference._program_desc import (
    drop_unreachable_blocks,
    feed_target_names,
    fetch_target_names,
    program_to_bytes,
)
from fluidspec.spec import PADDLE_2_6_2_PROGRAM_VERSION, PROGRAM_ONLY_WARNING, VarType
from fluidspec.spec.errors import BadProgramError, InvalidArgumentError, MissingFileError

__all__ = ["prune_for_inference", "save_inference_model", "load_inference_model",
           "PROGRAM_ONLY_WARNING"]

_DEFAULT_MODEL = "__model__"


# --------------------------------------------------------------------------------------------
# Pruning (INF-SAVE-002, INF-SAVE-003)


def _reads(program: Program, op: Operator) -> set[str]:
    """Names an op reads: its inputs and, recursively, whatever its sub-blocks' ops read."""
    names = set(op.input_arg_names)
    for idx in op._sub_block_ids():
        for inner in program.block(idx).ops:
            names |= _reads(program, inner)
            names |= set(inner.output_arg_names)  # sub-blocks may write parent vars in place
    return names


def prune_for_inference(
    program: Program, feeded_var_names: Sequence[str], target_names: Sequence[str]
) -> Program:
    """A pruned copy of ``program`` with feed and fetch ops (INF-SAVE-002..005).

    The original program is not changed (INF-SAVE-009).
    """
    pruned = program.clone()
    glob = pruned.global_block()
    feeds = set(feeded_var_names)
    ops = [op for op in glob.ops if op.type not in ("feed", "fetch")]
    needed = set(target_names)
    kept: list[Operator] = []
    for op in reversed(ops):
        if op.type == "read":  # INF-SAVE-003: readers have no place in an inference program
            continue
        if set(op.output_arg_names) & (needed - feeds):
            kept.append(op)
            needed |= _reads(pruned, op)
    glob.ops = list(reversed(kept))
    drop_unreachable_blocks(pruned)
    referenced = set(target_names)
    for op in glob.ops:
        referenced |= _reads(pruned, op) | set(op.output_arg_names)
    # Paddle's pruned block lists its vars by name, with feed and fetch added after them.
    glob.vars = type(glob.vars)(
        (name, glob.vars[name]) for name in sorted(glob.vars)
        if name in referenced and name not in ("feed", "fetch")
    )
    for block in pruned.blocks:
        for op in block.ops:
            if op.has_attr("is_test"):
                op._set_attr("is_test", True)
        for var in block.vars.values():
            # INF-SAVE-006: training information is not part of an inference program
            var._proto.is_parameter = False
            var._proto.stop_gradient = False
    for i, name in enumerate(feeded_var_names):
        if name not in glob.vars:
            raise InvalidArgumentError(
                f"The feeded_var_names[{i}]: {name!r} doesn't exist in pruned inference "
                "program; remove it from feeded_var_names if the targets do not need it",
                var=name, expected="a variable the targets depend on", found="not needed",
            )
    _add_feed_fetch(glob, feeded_var_names, target_names)
    pruned._proto.version.version = PADDLE_2_6_2_PROGRAM_VERSION  # INF-SAVE-007
    # Re-parse so the result's vars are plain Variables, exactly as a loader will see them.
    return Program.parse_from_string(program_to_bytes(pruned))


def _add_feed_fetch(glob: Block, feeds: Sequence[str], targets: Sequence[str]) -> None:
    """INF-SAVE-004 / INF-SAVE-005: prepend feed ops (so stored in reverse col), append fetch ops."""
    if feeds:
        glob.create_var(name="feed", type=VarType.FEED_MINIBATCH, persistable=True)
        for col, name in enumerate(feeds):
            glob._prepend_op(type="feed", inputs={"X": ["feed"]}, outputs={"Out": [name]},
                             attrs={"col": col})
    glob.create_var(name="fetch", type=VarType.FETCH_LIST, persistable=True)
    for col, name in enumerate(targets):
        glob.append_op(type="fetch", inputs={"X": [name]}, outputs={"Out": ["fetch"]},
                       attrs={"col": col})


# --------------------------------------------------------------------------------------------
# Save


def _feed_names(feeded_var_names: Any) -> list[str]:
    if isinstance(feeded_var_names, str):
        return [feeded_var_names]
    if not isinstance(feeded_var_names, (list, tuple)) or not all(
        isinstance(n, str) for n in feeded_var_names
    ):
        raise InvalidArgumentError("'feed_var_names' should be a list of str.",
                                   expected="str or list of str", found=repr(feeded_var_names)[:80])
    return list(feeded_var_names)


def _target_vars(target_vars: Any) -> list[Variable]:
    if isinstance(target_vars, Variable):
        return [target_vars]
    if (not isinstance(target_vars, (list, tuple)) or not target_vars
            or not all(isinstance(v, Variable) for v in target_vars)):
        raise InvalidArgumentError("'target_vars' should be a list of Variable.",
                                   expected="a non-empty list of Variables",
                                   found=repr(target_vars)[:80])
    return list(target_vars)


def _basename(value: Any, what: str) -> str | None:
    """INF-SAVE-008: only the basename of model_filename / params_filename is used."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a str", expected="str",
                                   found=type(value).__name__)
    name = os.path.basename(value)
    _files.name_components(name, what=what)
    return name


# Fluid 1.x's public signature, argument for argument (INF-SAVE-*), hence its length.
def save_inference_model(
    dirname: Any, feeded_var_names: Any, target_vars: Any, executor: Any,
    main_program: Program | None = None, model_filename: str | None = None,
    params_filename: str | None = None, export_for_deployment: bool = True,
    program_only: bool = False,
) -> Any:
    """Save a pruned inference program and its persistables (chapter ``inference``).

    Returns the target variable names, as Fluid does; with ``dirname=None`` returns
    ``(model_bytes, params_bytes)`` instead (INF-SAVE-010).
    """
    feeds = _feed_names(feeded_var_names)
    targets = [v.name for v in _target_vars(target_vars)]
    program = _valid_program(main_program)
    for name in targets:
        if not program.global_block().has_var(name):
            raise InvalidArgumentError(
                "a target variable is not declared in main_program's global block", var=name,
                expected="a variable of the program being saved", found="not declared",
            )
    model_name = _basename(model_filename, "model_filename") or _DEFAULT_MODEL
    params_name = _basename(params_filename, "params_filename")
    if export_for_deployment:
        to_save = prune_for_inference(program, feeds, targets)
    else:  # INF-SAVE-011: the whole program, under '<model>.main_program'
        to_save = program
        model_name += ".main_program"
    model_bytes = program_to_bytes(to_save)
    if dirname is None:
        params = None if program_only else plan_save(None, to_save, None, is_persistable, None)
        return model_bytes, (None if params is None else params.stream)
    root = _files.checked_dirname(dirname)
    model_path = root / model_name
    _files.check_writable_target(root, model_path)
    plan = None
    if program_only:
        warnings.warn(PROGRAM_ONLY_WARNING, UserWarning, stacklevel=2)
    else:  # checked and encoded before the model is written (SEL-SAVE-008)
        plan = plan_save(root, to_save, None, is_persistable, params_name)
    _files.atomic_write(model_path, model_bytes)
    if plan is not None:
        plan.write()
    return targets


# --------------------------------------------------------------------------------------------
# Load


def _pick(root: Any, name: str, suffix: str) -> Any:
    """INF-LOAD-002: ``name + suffix`` when that file exists, else ``name``."""
    suffixed = root / (name + suffix)
    return suffixed if not name.endswith(suffix) and suffixed.is_file() else root / name


def load_inference_model(
    dirname: Any, executor: Any, model_filename: Any = None, params_filename: Any = None,
    pserver_endpoints: Any = None,
) -> list[Any]:
    """Load an inference model: ``[program, feed_target_names, fetch_targets]`` (INF-LOAD-*)."""
    if dirname is None:
        if not isinstance(model_filename, (bytes, bytearray, memoryview)) or not isinstance(
            params_filename, (bytes, bytearray, memoryview)
        ):
            raise InvalidArgumentError(
                "without a dirname, model_filename and params_filename must be the bytes of the "
                "program and of its parameters", expected="bytes, bytes",
                found=f"{type(model_filename).__name__}, {type(params_filename).__name__}",
            )
        program = Program.parse_from_string(model_filename)
        targets = _targets(program, None)
        load_persistables(executor, None, program, filename=bytes(params_filename))
        return [program, *targets]
    root = _files.checked_dirname(dirname)
    prefix_model = root.parent / (root.name + ".pdmodel")
    if (not root.is_dir() and model_filename is None and params_filename is None
            and prefix_model.is_file()):
        # INF-LOAD-006: Paddle 2.x's path_prefix form, '<prefix>.pdmodel' + '<prefix>.pdiparams'
        return load_inference_model(root.parent, executor, root.name + ".pdmodel",
                                    root.name + ".pdiparams")
    if not root.is_dir():
        raise MissingFileError("There is no directory named this", path=root,
                               expected="a directory", found="nothing" if not root.exists()
                               else "not a directory")
    model_name = _basename(model_filename, "model_filename") or _DEFAULT_MODEL
    params_name = _basename(params_filename, "params_filename")
    model_path = _pick(root, model_name, ".pdmodel") if model_filename else root / model_name
    program = Program.parse_from_string(_files.read_bytes(model_path), path=model_path)
    targets = _targets(program, model_path)
    params = None
    if params_name is not None:
        params = _pick(root, params_name, ".pdiparams").name
    load_persistables(executor, root, program, filename=params)
    return [program, *targets]


def _targets(program: Program, path: Any) -> list[list[Any]]:
    """Feed names and fetch Variables by col; BAD_PROGRAM when they do not resolve (INF-LOAD-003)."""
    try:
        feeds = feed_target_names(program)
        fetches = fetch_target_names(program)
    except BadProgramError as exc:
        raise exc.with_context(path=path) from None
    glob = program.global_block()
    for name in [*feeds, *fetches]:
        if name not in glob.vars:
            raise BadProgramError("a feed/fetch target is not a variable of the global block",
                                  path=path, var=name, expected="a declared variable",
                                  found="none")
    return [feeds, [glob.var(name) for name in fetches]]
