"""Names that become paths: SAFE-PATH-001/002/003 (and SEL-PATH-*).

Every unsafe name is refused with UNSAFE_NAME by save and by load, before anything is written
(the whole temporary tree, not only ``dirname``, is compared byte for byte before and after)
and before anything is read or assigned.  Safe but odd names are written inside ``dirname`` and
nowhere else.  Runs against every implementation's ``io`` module.
"""

from __future__ import annotations

import contextlib
import os

import hostile_helpers as hh
import numpy as np
import pytest

from fluidspec import reference as fluid
from fluidspec.reference._codec import encode_lod_tensor
from fluidspec.spec.errors import FluidSpecError

IO = hh.io_params()

# (id, name) — `abs` is filled in per test with an absolute path inside the temporary tree, so
# that a broken implementation writes there and not at the file system root.
UNSAFE = [
    ("empty", ""),
    ("dot", "."),
    ("dotdot", ".."),
    ("dotdot-escape", "../escape"),
    ("deep-escape", "a/../../escape"),
    ("dotdot-last", "a/.."),
    ("dot-component", "a/./b"),
    ("nul", "w\x00"),
    ("nul-middle", "a\x00/../../escape"),
    ("absolute", "<abs>"),
    ("component-over-255-bytes", "d/" + "x" * 256),
    ("double-slash", "a//b"),
    ("trailing-slash", "a/"),
]
SAFE_ODD = ["a/b", "enc/layer.0/w", "..a", "a..", "...", "é", "a b", ".hidden", "x-y_z.0"]


@pytest.fixture
def tree(tmp_path):
    """``tmp_path/outer`` with a sentinel file, and ``dirname`` = ``outer/inner/d`` (existing)."""
    outer = tmp_path / "outer"
    dirname = outer / "inner" / "d"
    dirname.mkdir(parents=True)
    (outer / "sentinel").write_bytes(b"do not touch")
    (outer / "escape").write_bytes(encode_lod_tensor(np.array([9.0], np.float32)))
    return tmp_path, dirname


@contextlib.contextmanager
def _scope():
    with fluid.scope_guard(fluid.Scope()):
        yield


def _name(raw: str, tmp_path) -> str:
    return str(tmp_path / "abs_target") if raw == "<abs>" else raw


def _values(unsafe: str) -> dict[str, np.ndarray]:
    # The unsafe var sits between safe ones, so "refused before anything is written" is tested.
    return {"a_first": np.arange(3, dtype=np.float32), unsafe: np.ones(2, np.float32),
            "z_last": np.zeros(4, np.int64)}


def _assert_unsafe(info, raw_id):
    err = info.value
    assert err.id == "UNSAFE_NAME", f"{raw_id}: {err}"
    assert str(err).startswith("UNSAFE_NAME:")


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize(("case", "raw"), UNSAFE, ids=[c for c, _ in UNSAFE])
def test_unsafe_var_name_is_refused_by_a_separate_save_before_writing(io, tree, case, raw):
    tmp_path, dirname = tree
    name = _name(raw, tmp_path)
    with _scope():
        program = hh.build_program(_values(name))
        exe = fluid.Executor(fluid.CPUPlace())
        before = hh.snapshot_tree(tmp_path)
        with pytest.raises(FluidSpecError) as info:
            io.save_vars(exe, str(dirname), program, vars=list(program.list_vars()))
        _assert_unsafe(info, case)
        assert hh.snapshot_tree(tmp_path) == before


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize(("case", "raw"), UNSAFE, ids=[c for c, _ in UNSAFE])
def test_unsafe_var_name_is_refused_by_a_separate_load_before_reading(io, tree, case, raw):
    tmp_path, dirname = tree
    name = _name(raw, tmp_path)
    # Valid files where a broken loader would look: "escape" outside dirname, abs_target.
    (tmp_path / "abs_target").write_bytes(encode_lod_tensor(np.array([7.0, 7.0], np.float32)))
    for safe in ("a_first", "z_last"):
        (dirname / safe).write_bytes(encode_lod_tensor(np.array([5.0], np.float32)))
    with _scope():
        program = hh.build_program(_values(name), set_values=False)
        exe = fluid.Executor(fluid.CPUPlace())
        names = [v.name for v in program.list_vars()]
        before_scope = hh.scope_values(names)
        before = hh.snapshot_tree(tmp_path)
        with pytest.raises(FluidSpecError) as info:
            io.load_vars(exe, str(dirname), program, vars=list(program.list_vars()))
        _assert_unsafe(info, case)
        assert hh.same_values(hh.scope_values(names), before_scope)
        assert hh.snapshot_tree(tmp_path) == before


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize(("case", "raw"), UNSAFE, ids=[c for c, _ in UNSAFE])
def test_unsafe_combined_filename_is_refused(io, tree, case, raw):
    # SAFE-PATH-003: `filename` of save_vars/load_vars follows SAFE-PATH-001.
    tmp_path, dirname = tree
    filename = _name(raw, tmp_path)
    with _scope():
        program = hh.build_program({"w": np.arange(3, dtype=np.float32)})
        exe = fluid.Executor(fluid.CPUPlace())
        before = hh.snapshot_tree(tmp_path)
        with pytest.raises(FluidSpecError) as info:
            io.save_vars(exe, str(dirname), program, filename=filename)
        _assert_unsafe(info, case)
        assert hh.snapshot_tree(tmp_path) == before
        if raw in ("", "."):
            return  # load_vars reads "" as "separate files" (SEL-LOAD-006); "." is the dir
        with pytest.raises(FluidSpecError) as info:
            io.load_vars(exe, str(dirname), program, filename=filename)
        _assert_unsafe(info, case)


@pytest.mark.parametrize("io", IO)
def test_var_name_colliding_with_an_existing_directory_is_refused(io, tree):
    tmp_path, dirname = tree
    (dirname / "sub").mkdir()
    (dirname / "sub" / "keep").write_bytes(b"x")
    with _scope():
        program = hh.build_program({"a": np.ones(1, np.float32), "sub": np.ones(2, np.float32)})
        exe = fluid.Executor(fluid.CPUPlace())
        before = hh.snapshot_tree(tmp_path)
        with pytest.raises(FluidSpecError) as info:
            io.save_vars(exe, str(dirname), program)
        _assert_unsafe(info, "dir-collision")
        assert hh.snapshot_tree(tmp_path) == before
        with pytest.raises(FluidSpecError) as info:
            io.save_vars(exe, str(dirname), program, filename="sub")
        _assert_unsafe(info, "filename-is-dir")
        assert hh.snapshot_tree(tmp_path) == before


@pytest.mark.parametrize("io", IO)
def test_names_that_need_a_path_as_file_and_directory_are_refused(io, tree):
    tmp_path, dirname = tree
    with _scope():
        program = hh.build_program({"p": np.ones(1, np.float32), "p/q": np.ones(2, np.float32)})
        exe = fluid.Executor(fluid.CPUPlace())
        before = hh.snapshot_tree(tmp_path)
        with pytest.raises(FluidSpecError) as info:
            io.save_vars(exe, str(dirname), program)
        _assert_unsafe(info, "file-and-dir")
        assert hh.snapshot_tree(tmp_path) == before


@pytest.mark.parametrize("io", IO)
def test_a_name_below_an_existing_file_is_refused(io, tree):
    tmp_path, dirname = tree
    (dirname / "f").write_bytes(b"a file, not a directory")
    with _scope():
        program = hh.build_program({"f/w": np.ones(1, np.float32)})
        exe = fluid.Executor(fluid.CPUPlace())
        before = hh.snapshot_tree(tmp_path)
        with pytest.raises(FluidSpecError) as info:
            io.save_vars(exe, str(dirname), program)
        _assert_unsafe(info, "below-a-file")
        assert hh.snapshot_tree(tmp_path) == before


@pytest.mark.parametrize("io", IO)
def test_unsafe_names_are_accepted_when_the_var_is_created(io):
    # SAFE-PATH-001: names are checked when used as paths, not when a variable is created.
    with _scope():
        program = hh.build_program({"../x": np.ones(1, np.float32), "": np.ones(1, np.float32)})
        assert {v.name for v in program.list_vars()} == {"../x", ""}
        # A combined save to memory uses no path: it works.
        exe = fluid.Executor(fluid.CPUPlace())
        data = io.save_vars(exe, None, program)
        assert isinstance(data, bytes) and len(data) > 0


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize("combined", [False, True], ids=["separate", "combined"])
def test_safe_odd_names_are_written_inside_dirname_only(io, tree, combined):
    # SAFE-PATH-002: a save writes below dirname and nowhere else, temporary files included.
    tmp_path, dirname = tree
    values = {n: np.full(2, i, np.float32) for i, n in enumerate(SAFE_ODD)}
    with _scope():
        program = hh.build_program(values)
        exe = fluid.Executor(fluid.CPUPlace())
        before = hh.snapshot_tree(tmp_path)
        io.save_vars(exe, str(dirname), program, filename="sub/all" if combined else None)
        after = hh.snapshot_tree(tmp_path)
    rel = os.path.relpath(dirname, tmp_path)
    changed = {p for p in after.keys() | before.keys() if after.get(p, 0) != before.get(p, 0)}
    parents = {os.path.dirname(rel)}  # dirname existed: nothing above it may change
    outside = {p for p in changed if p != rel and not p.startswith(rel + os.sep)} - parents
    assert outside == set()
    if not combined:
        for name in SAFE_ODD:
            assert os.path.join(rel, *name.split("/")) in after, name
    leftovers = [p for p in after if p.startswith(rel) and ".tmp" in p]
    assert leftovers == []
    with _scope():
        program = hh.build_program(values, set_values=False)
        io.load_vars(exe, str(dirname), program, filename="sub/all" if combined else None)
        got = hh.scope_values(list(values))
    assert hh.same_values(got, values)


@pytest.mark.parametrize("io", IO)
def test_dirname_that_does_not_exist_is_created_inside_its_parent_only(io, tmp_path):
    with _scope():
        program = hh.build_program({"w": np.ones(3, np.float32)})
        exe = fluid.Executor(fluid.CPUPlace())
        io.save_vars(exe, str(tmp_path / "new" / "deep"), program)
    assert sorted(hh.snapshot_tree(tmp_path)) == ["new", "new/deep", "new/deep/w"]


# --------------------------------------------------------------------------------------------
# Inference models: model_filename / params_filename (SAFE-PATH-003)

INFER_UNSAFE = [
    ("empty", ""), ("dot", "."), ("dotdot", ".."), ("trailing-slash", "sub/"),
    ("dotdot-last", "a/.."), ("nul", "m\x00"),
]
INFER_ESCAPES = ["../escape_model", "/tmp/../abs_model", "a/../../escape_model"]


def _inference_program():
    program = fluid.Program()
    block = program.global_block()
    x = block.create_var(name="x", shape=[-1, 3], dtype="float32")
    w = block.create_parameter(name="w", shape=[3, 2], dtype="float32")
    y = block.create_var(name="y", shape=[-1, 2], dtype="float32")
    block.append_op(type="mul", inputs={"X": [x], "Y": [w]}, outputs={"Out": [y]})
    fluid.global_scope().var("w").get_tensor().set(np.ones((3, 2), np.float32), fluid.CPUPlace())
    return program, y


def _needs_inference(io):
    if not hasattr(io, "save_inference_model"):
        pytest.skip(f"{io.__name__}.save_inference_model not landed yet")


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize("which", ["model_filename", "params_filename"])
@pytest.mark.parametrize(("case", "raw"), INFER_UNSAFE, ids=[c for c, _ in INFER_UNSAFE])
def test_unsafe_inference_file_names_are_refused(io, tree, which, case, raw):
    _needs_inference(io)
    tmp_path, dirname = tree
    with _scope():
        program, y = _inference_program()
        exe = fluid.Executor(fluid.CPUPlace())
        before = hh.snapshot_tree(tmp_path)
        with pytest.raises(FluidSpecError) as info:
            io.save_inference_model(str(dirname), ["x"], [y], exe, main_program=program,
                                    **{which: raw})
        _assert_unsafe(info, case)
        assert hh.snapshot_tree(tmp_path) == before
        # Loading: next to a good model saved under the default names, the unsafe name is
        # still refused (not resolved to dirname itself or to its parent).
        io.save_inference_model(str(dirname), ["x"], [y], exe, main_program=program)
        with pytest.raises(FluidSpecError) as info:
            io.load_inference_model(str(dirname), exe, **{which: raw})
        _assert_unsafe(info, case)


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize("which", ["model_filename", "params_filename"])
@pytest.mark.parametrize("raw", INFER_ESCAPES)
def test_inference_file_names_never_write_outside_dirname(io, tree, which, raw):
    # Fluid uses the base name of these arguments; whatever an implementation does with a
    # name like "../escape_model" (refuse it, or write its base name), it stays inside dirname.
    _needs_inference(io)
    tmp_path, dirname = tree
    with _scope():
        program, y = _inference_program()
        exe = fluid.Executor(fluid.CPUPlace())
        before = hh.snapshot_tree(tmp_path)
        try:
            io.save_inference_model(str(dirname), ["x"], [y], exe, main_program=program,
                                    **{which: raw})
        except FluidSpecError as err:
            assert err.id == "UNSAFE_NAME", str(err)
            assert hh.snapshot_tree(tmp_path) == before
            return
        after = hh.snapshot_tree(tmp_path)
    rel = os.path.relpath(dirname, tmp_path)
    changed = {p for p in after.keys() | before.keys() if after.get(p, 0) != before.get(p, 0)}
    assert {p for p in changed if not p.startswith(rel + os.sep)} == set()


# --------------------------------------------------------------------------------------------
# The real attack: the names come from a downloaded __model__ (SAFE-PATH-001, loading side).


def _hostile_model_dir(io, dirname, evil: str) -> None:
    """An inference-model dir whose __model__ renames the Parameter `w` to ``evil``."""
    from fluidspec.spec.framework_pb2 import ProgramDesc

    with _scope():
        program, y = _inference_program()
        exe = fluid.Executor(fluid.CPUPlace())
        io.save_inference_model(str(dirname), ["x"], [y], exe, main_program=program)
    desc = ProgramDesc.FromString((dirname / "__model__").read_bytes())
    renamed = 0
    for block in desc.blocks:
        for var in block.vars:
            if var.name == "w":
                var.name, renamed = evil, renamed + 1
        for op in block.ops:
            for slot in [*op.inputs, *op.outputs]:
                for i, arg in enumerate(slot.arguments):
                    if arg == "w":
                        slot.arguments[i] = evil
    assert renamed == 1
    (dirname / "__model__").write_bytes(desc.SerializeToString())


@pytest.mark.parametrize("io", IO)
@pytest.mark.parametrize("evil", ["../escape", "<abs>", "a/../../escape", "w\x00"],
                         ids=["dotdot", "absolute", "deep", "nul"])
def test_a_downloaded_model_cannot_make_a_load_read_outside_dirname(io, tree, evil):
    _needs_inference(io)
    tmp_path, dirname = tree
    evil = str(tmp_path / "abs_target") if evil == "<abs>" else evil
    (tmp_path / "abs_target").write_bytes(encode_lod_tensor(np.ones((3, 2), np.float32)))
    (dirname.parent.parent / "escape").write_bytes(encode_lod_tensor(np.ones((3, 2), np.float32)))
    _hostile_model_dir(io, dirname, evil)
    with _scope():
        exe = fluid.Executor(fluid.CPUPlace())
        with pytest.raises(FluidSpecError) as info:
            io.load_inference_model(str(dirname), exe)
        _assert_unsafe(info, evil)
        assert fluid.global_scope().find_var(evil) is None or \
            not fluid.global_scope().find_var(evil).is_initialized()


@pytest.mark.parametrize("io", IO)
def test_a_downloaded_model_with_combined_params_loads_odd_names_without_paths(io, tree):
    # With params_filename the names only match records by position: no path, no refusal.
    _needs_inference(io)
    tmp_path, dirname = tree
    with _scope():
        program, y = _inference_program()
        exe = fluid.Executor(fluid.CPUPlace())
        io.save_inference_model(str(dirname), ["x"], [y], exe, main_program=program,
                                params_filename="params")
    from fluidspec.spec.framework_pb2 import ProgramDesc

    desc = ProgramDesc.FromString((dirname / "__model__").read_bytes())
    for block in desc.blocks:
        for var in block.vars:
            if var.name == "w":
                var.name = "../w"
        for op in block.ops:
            for slot in [*op.inputs, *op.outputs]:
                for i, arg in enumerate(slot.arguments):
                    if arg == "w":
                        slot.arguments[i] = "../w"
    (dirname / "__model__").write_bytes(desc.SerializeToString())
    before = hh.snapshot_tree(tmp_path)
    with _scope():
        exe = fluid.Executor(fluid.CPUPlace())
        io.load_inference_model(str(dirname), exe, params_filename="params")
        value = hh.scope_values(["../w"])["../w"]
    assert value is not None and np.array_equal(value, np.ones((3, 2), np.float32))
    assert hh.snapshot_tree(tmp_path) == before
