"""numba_kernels.io against reference.io: same files, same bytes, same scope, same errors.

The reference is the oracle (tests only).  Clauses: SEL-CAND-001..003, SEL-SAVE-001..008,
SEL-FILE-001..003, SEL-PATH-001/002, SEL-LOAD-001..007, FMT-COMB-001/002, FMT-SR-002.
"""

from __future__ import annotations

import os
import tempfile
import warnings

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluidspec import numba_kernels
from fluidspec.numba_kernels import io as nio
from fluidspec.reference import io as rio
from fluidspec.reference._framework import Program
from fluidspec.reference._scope import Scope, scope_guard
from fluidspec.spec import VarType
from fluidspec.spec.errors import FluidSpecError

DTYPES = ["float32", "float64", "int64", "int32", "int8", "uint8", "bool", "float16", "bfloat16",
          "complex64"]
NAMES = ["w", "b", "a/b", "a/c", "é", "10", "9", "x y", "fc_0.w_0", "emb", "../up", "", "q//r"]


@pytest.fixture(scope="session", autouse=True)
def _warm() -> None:
    numba_kernels.warm_up()


@st.composite
def worlds(draw: st.DrawFn):
    """(program builder, value setter): declarations plus scope values, rebuilt per impl."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=0, max_size=5, unique=True))
    decls = []
    for name in names:
        kind = draw(st.sampled_from(["LOD_TENSOR"] * 5 + ["SELECTED_ROWS", "RAW",
                                                           "FEED_MINIBATCH"]))
        dtype = draw(st.sampled_from(DTYPES))
        shape = draw(st.lists(st.integers(0, 3), max_size=3))
        param = kind == "LOD_TENSOR" and draw(st.booleans())
        persistable = param or draw(st.booleans())
        value = None
        if kind in ("LOD_TENSOR", "SELECTED_ROWS") and draw(st.integers(0, 9)):
            vdtype = draw(st.sampled_from([dtype, dtype, "float32"]))
            vshape = shape if param and draw(st.integers(0, 5)) else draw(
                st.lists(st.integers(0, 3), max_size=3))
            np_dtype = ml_dtypes.bfloat16 if vdtype == "bfloat16" else np.dtype(vdtype)
            array = (np.arange(int(np.prod(vshape)), dtype=np.int64) % 3).astype(np_dtype)
            array = array.reshape(vshape)
            lod = []
            if vshape and kind == "LOD_TENSOR" and draw(st.booleans()):
                cut = draw(st.integers(0, vshape[0]))
                lod = [[0, cut, vshape[0]]]
            rows = draw(st.lists(st.integers(0, 9), max_size=3))
            value = (array, lod, rows)
        decls.append((name, kind, dtype, shape, param, persistable, value))
    return decls


def build(decls):
    program = Program()
    block = program.global_block()
    variables = {}
    scope = Scope()
    for name, kind, dtype, shape, param, persistable, value in decls:
        if param:
            var = block.create_parameter(name=name, shape=shape, dtype=dtype)
        else:
            tensor_kind = kind in ("LOD_TENSOR", "SELECTED_ROWS")
            var = block.create_var(name=name, shape=shape if tensor_kind else None,
                                   dtype=dtype if kind in ("LOD_TENSOR", "SELECTED_ROWS")
                                   else None, type=getattr(VarType, kind),
                                   persistable=persistable)
        variables[name] = var
        if value is not None:
            array, lod, rows = value
            holder = scope.var(name)
            if kind == "SELECTED_ROWS":
                sr = holder.get_selected_rows()
                sr.get_tensor().set(array)
                sr.set_rows(rows)
                sr.set_height(10)
            else:
                tensor = holder.get_tensor()
                tensor.set(array)
                if lod:
                    tensor.set_lod(lod)
    return program, variables, scope


def tree(root):
    out = {}
    for base, _, files in os.walk(root):
        for f in files:
            path = os.path.join(base, f)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = fh.read()
    return out


def run(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("ok", fn())
        except FluidSpecError as exc:
            result = ("error", exc.id, exc.var)
    return result, [str(w.message) for w in caught]


API = {"vars": ("save_vars", "load_vars"), "params": ("save_params", "load_params"),
       "persistables": ("save_persistables", "load_persistables")}


def save_call(mod, api, program, variables, mode, root, use_vars, predicate):
    save = getattr(mod, API[api][0])
    dirname = None if mode == "memory" else root
    filename = "model/params" if mode == "combined" else None
    if api == "vars":
        pred = None if predicate == "none" else getattr(mod, predicate)
        return save(None, dirname, program, vars=list(variables.values()) if use_vars else None,
                    predicate=pred, filename=filename)
    return save(None, dirname, program, filename=filename)


@given(worlds(), st.sampled_from(list(API)), st.sampled_from(["memory", "combined", "separate"]),
       st.booleans(), st.sampled_from(["none", "is_parameter", "is_persistable"]))
def test_saves_match_reference(decls, api, mode, use_vars, predicate):
    outcomes = []
    for mod in (rio, nio):
        program, variables, scope = build(decls)
        with tempfile.TemporaryDirectory() as root, scope_guard(scope):
            result = run(lambda mod=mod, program=program, variables=variables, root=root:
                         save_call(mod, api, program, variables, mode, root, use_vars, predicate))
            outcomes.append((result, tree(root)))
    assert outcomes[1] == outcomes[0]


@given(worlds(), st.sampled_from(list(API)), st.sampled_from(["memory", "combined", "separate"]),
       st.integers(0, 6), st.integers(0, 255), st.booleans())
def test_loads_match_reference(decls, api, mode, corrupt_kind, byte, prefilled):
    """Save with the reference, optionally damage the result, load with both and compare: into
    a fresh scope, or into one already holding values (as after a startup program), where the
    existing holder objects must be the ones that receive the values (SEL-LOAD-003)."""
    program, variables, scope = build(decls)
    with tempfile.TemporaryDirectory() as root:
        with scope_guard(scope):
            saved = run(lambda: save_call(rio, api, program, variables, mode, root, False,
                                          "is_persistable"))[0]
        if saved[0] != "ok":
            return
        blob = saved[1]
        files = sorted(tree(root))
        if corrupt_kind and (files or blob):
            if mode == "memory":
                blob = _damage(blob, corrupt_kind, byte)
            else:
                path = os.path.join(root, files[byte % len(files)])
                with open(path, "rb") as f:
                    data = f.read()
                if corrupt_kind == 6:
                    os.remove(path)
                else:
                    with open(path, "wb") as f:
                        f.write(_damage(data, corrupt_kind, byte))
        outcomes = []
        names = [d[0] for d in decls]
        for mod in (rio, nio):
            program2, variables2, start = build(decls)
            fresh = start if prefilled else Scope()
            before = {n: fresh.find_var(n)._holder for n in names if fresh.find_var(n)}
            for holder in before.values():  # other values than the saved ones, to be replaced
                tensor = getattr(holder, "_tensor", holder)
                if getattr(tensor, "_array", None) is not None:
                    tensor._array = np.full_like(tensor._array, 7)
            with scope_guard(fresh):
                load = getattr(mod, API[api][1])
                dirname = None if mode == "memory" else root
                filename = blob if mode == "memory" else (
                    "model/params" if mode == "combined" else None)
                if api == "vars":
                    result = run(lambda load=load, dirname=dirname, filename=filename, mod=mod,
                                 program2=program2: load(None, dirname, program2,
                                                         predicate=mod.is_persistable,
                                                         filename=filename))
                else:
                    result = run(lambda load=load, dirname=dirname, filename=filename,
                                 program2=program2: load(None, dirname, program2,
                                                         filename=filename))
                kept = sorted(n for n, h in before.items() if fresh.find_var(n)._holder is h)
                outcomes.append((result, _scope_state(fresh, names), kept))
        assert outcomes[1] == outcomes[0]


def _damage(data, kind, byte):
    if not data:
        return bytes([byte])
    at = byte % len(data)
    if kind == 1:
        return data[:at]
    if kind == 2:
        return data + bytes([byte]) * (1 + byte % 30)
    if kind == 3:
        return data[:at] + bytes([byte]) + data[at + 1:]
    if kind == 4:
        return data + data  # whole extra records
    return data[:at] + b"\xff" * 8 + data[at + 8:]


def _scope_state(scope, names):
    state = {}
    for name in names:
        holder = scope.find_var(name)
        if holder is None or not holder.is_initialized():
            continue
        value = holder._holder
        if hasattr(value, "rows"):
            array = np.asarray(value.get_tensor()._value())
            state[name] = ("sr", array.dtype.str, array.shape, array.tobytes(),
                           list(value.rows()), value.height())
        else:
            array = value._value()
            state[name] = ("dense", array.dtype.str, array.shape, array.tobytes(), value.lod())
    return state


def test_is_parameter_and_is_persistable_agree_with_reference():
    """SEL-CAND-003 on every kind."""
    program = Program()
    block = program.global_block()
    variables = [block.create_parameter(name="p", shape=[1], dtype="float32")]
    for kind in ("LOD_TENSOR", "SELECTED_ROWS", "RAW", "FEED_MINIBATCH", "FETCH_LIST", "READER",
                 "STEP_SCOPES"):
        for persistable in (True, False):
            variables.append(block.create_var(name=f"{kind}{persistable}",
                                              type=getattr(VarType, kind),
                                              persistable=persistable))
    for var in variables:
        assert nio.is_parameter(var) == rio.is_parameter(var)
        assert nio.is_persistable(var) == rio.is_persistable(var)


def test_failed_save_keeps_the_previous_save(tmp_path):
    """SEL-SAVE-008: an UNINITIALIZED variable stops the save before any file changes."""
    program = Program()
    block = program.global_block()
    a = block.create_var(name="a", shape=[2], dtype="float32", persistable=True)
    b = block.create_var(name="b", shape=[2], dtype="float32", persistable=True)
    scope = Scope()
    with scope_guard(scope):
        scope.var("a").get_tensor().set(np.ones(2, np.float32))
        scope.var("b").get_tensor().set(np.ones(2, np.float32))
        nio.save_vars(None, tmp_path, program, vars=[a, b])
        before = tree(tmp_path)
        scope.var("a").get_tensor().set(np.zeros(2, np.float32))
        scope.var("b")._set_holder(None)
        with pytest.raises(FluidSpecError) as err:
            nio.save_vars(None, tmp_path, program, vars=[a, b])
        assert err.value.id == "UNINITIALIZED"
        assert tree(tmp_path) == before


# ------------------------------------------------------------- direct reads and writev saves

BIG = 1 << 19  # float32 elements: 2 MiB, above numba_kernels' direct-read threshold


def _program_with(names, shape, dtype="float32", parameter=False):
    program = Program()
    block = program.global_block()
    for name in names:
        if parameter:
            block.create_parameter(name=name, shape=shape, dtype=dtype)
        else:
            block.create_var(name=name, shape=shape, dtype=dtype, persistable=True)
    return program


@pytest.mark.parametrize("filename", [None, "all"])
def test_big_load_reads_into_the_existing_tensor_when_dtype_and_shape_match(tmp_path, filename):
    """SEL-LOAD-003: the value lands in the scope's own array (as Paddle's TensorFromStream
    reuses a matching allocation); on a dtype or shape mismatch a fresh array replaces it and
    the old one is left as it was."""
    program = _program_with(["w"], [BIG])
    saved = np.arange(BIG, dtype=np.float32)
    scope = Scope()
    with scope_guard(scope):
        scope.var("w").get_tensor().set(saved)
        nio.save_persistables(None, str(tmp_path), program, filename=filename)
        tensor = scope.var("w").get_tensor()
        tensor.set(np.zeros(BIG, np.float32))
        same = tensor._value()
        nio.load_persistables(None, str(tmp_path), program, filename=filename)
        assert tensor._value() is same
        np.testing.assert_array_equal(same, saved)

        for other in (np.zeros(BIG, np.float64), np.zeros((2, BIG // 2), np.float32)):
            tensor.set(other)
            old = tensor._value()
            nio.load_persistables(None, str(tmp_path), program, filename=filename)
            assert tensor._value() is not old
            assert not old.any()
            np.testing.assert_array_equal(tensor._value(), saved)
            assert tensor._value().dtype == np.float32


def test_writev_saves_are_byte_identical_to_the_encoder(tmp_path):
    """FMT-COMB-001, SEL-FILE-001/002: headers and arrays written with writev give exactly the
    bytes ``arrays.encode`` gives, for uniform, mixed, LoD, 0-d and non-contiguous tensors."""
    from fluidspec.numba_kernels import arrays, files

    values = {
        "a": np.arange(12, dtype=np.float32).reshape(3, 4),
        "b": np.arange(20, dtype=np.int64).reshape(4, 5)[:, ::2],  # not contiguous
        "c": np.array(7, np.int32),
        "d": np.arange(6, dtype=">f8"),  # big-endian: converted (FMT-REC-007)
        "e": np.ones((3, 2), np.float16),
    }
    lods = {"e": [[0, 1, 3]]}
    names = sorted(values)
    expected = arrays.encode([values[n] for n in names], [lods.get(n, []) for n in names])
    program = Program()
    block = program.global_block()
    scope = Scope()
    with scope_guard(scope):
        for name, value in values.items():
            block.create_var(name=name, shape=list(value.shape), persistable=True,
                             dtype=str(value.dtype.newbyteorder("=")))
            tensor = scope.var(name).get_tensor()
            tensor.set(value)
            if name in lods:
                tensor.set_lod(lods[name])
        nio.save_persistables(None, str(tmp_path / "sep"), program)
        nio.save_persistables(None, str(tmp_path / "one"), program, filename="all")
    assert (tmp_path / "one" / "all").read_bytes() == expected
    for name in names:
        assert (tmp_path / "sep" / name).read_bytes() == arrays.encode(
            [values[name]], [lods.get(name, [])])
    uniform = [np.full((4, 4), i, np.float32) for i in range(300)]
    files.save_combined(str(tmp_path / "u"), uniform)
    assert (tmp_path / "u").read_bytes() == arrays.encode(uniform)
    many = [np.full(3, i % 100, np.int8) for i in range(1500)]  # more parts than IOV_MAX
    files.save_combined(str(tmp_path / "m"), many)
    assert (tmp_path / "m").read_bytes() == arrays.encode(many)


def _split_reads(monkeypatch, cores: int) -> list[tuple[int, int, int]]:
    """Big payloads split from 3 MiB on, over ``cores`` cores, in pieces starting on 64 KiB;
    every read is recorded as ``(thread, file offset, bytes asked)``."""
    from read_calls import record_preadv

    from fluidspec.numba_kernels import _files

    monkeypatch.setattr(_files, "SPLIT_FROM", 3 << 20)
    monkeypatch.setattr(_files, "_SPLIT_BLOCK", 1 << 16)
    monkeypatch.setattr(_files, "_cores", lambda: cores)
    return record_preadv(monkeypatch, _files)


@pytest.mark.parametrize("cores", [1, 2, 3, 8])
@pytest.mark.parametrize("fresh", [True, False], ids=["fresh", "into-scope"])
def test_a_big_payload_is_read_in_one_piece_per_core_covering_it_once(tmp_path, monkeypatch,
                                                                      cores, fresh):
    """SEL-LOAD-001/003: a payload from ``SPLIT_FROM`` on is read by one thread per core (at
    most four), in contiguous pieces that start on a block and cover it exactly once; the value
    is the saved one, in the scope's own array when it matches."""
    elements = (3 << 18) + 5  # 3 MiB and 20 bytes of float32: a last piece shorter than a MiB
    program = _program_with(["w"], [elements])
    saved = np.random.default_rng(cores).random(elements, dtype=np.float32)
    scope = Scope()
    with scope_guard(scope):
        scope.var("w").get_tensor().set(saved)
        nio.save_persistables(None, str(tmp_path), program)
        tensor = scope.var("w").get_tensor()
        tensor.set(np.zeros(elements, np.float32 if not fresh else np.float64))
        before = tensor._value()
        calls = _split_reads(monkeypatch, cores)
        nio.load_persistables(None, str(tmp_path), program)
        monkeypatch.undo()
        value = tensor._value()
    np.testing.assert_array_equal(value, saved)
    assert (value is before) is not fresh
    data_off = os.path.getsize(tmp_path / "w") - saved.nbytes
    payload = sorted((offset - data_off, asked) for _, offset, asked in calls
                     if offset >= data_off)
    starts = [lo for lo, _ in payload]
    assert [lo + asked for lo, asked in payload] == starts[1:] + [saved.nbytes]
    assert starts[0] == 0 and all(lo % (1 << 16) == 0 for lo in starts)
    assert len(payload) == min(cores, 4)


def test_a_split_read_of_a_file_cut_short_meanwhile_names_the_first_missing_byte(
        tmp_path, monkeypatch):
    """SEL-LOAD-001: the file is cut inside the first of two pieces after its header was read;
    both pieces finish before the error is raised, and it names the variable and the first
    payload byte that could not be read, as one read would."""
    from fluidspec.numba_kernels import _direct

    elements = 3 << 18
    program = _program_with(["w"], [elements])
    saved = np.arange(elements, dtype=np.float32)
    scope = Scope()
    with scope_guard(scope):
        scope.var("w").get_tensor().set(saved)
        nio.save_persistables(None, str(tmp_path), program)
        path = tmp_path / "w"
        size = os.path.getsize(path)
        data_off = size - saved.nbytes
        keep = (1 << 20) - 12  # payload bytes left: inside the first of two 1.5 MiB pieces
        tensor = scope.var("w").get_tensor()
        tensor.set(np.zeros(elements, np.float32))
        real_plan = _direct.plan_read

        def plan_then_truncate(fd, file, var, size):
            planned = real_plan(fd, file, var, size)
            os.truncate(file, data_off + keep)
            return planned

        _split_reads(monkeypatch, 2)
        monkeypatch.setattr(_direct, "plan_read", plan_then_truncate)
        with pytest.raises(FluidSpecError) as info:
            nio.load_persistables(None, str(tmp_path), program)
        monkeypatch.undo()
    assert type(info.value).__name__ == "MissingFileError"
    assert info.value.var == "w" and info.value.path == str(path)
    assert f"{keep} bytes" in str(info.value) and f"{saved.nbytes} bytes" in str(info.value)


def test_several_big_files_read_in_threads_are_not_split_again(tmp_path, monkeypatch):
    """Files already read by a few threads are read one piece each: a thread per core inside a
    thread per file would only crowd the cores."""
    names = ["a", "b", "c"]
    elements = 1 << 20  # 4 MiB each, above the lowered split size
    program = _program_with(names, [elements])
    scope = Scope()
    with scope_guard(scope):
        for i, name in enumerate(names):
            scope.var(name).get_tensor().set(np.full(elements, i, np.float32))
        nio.save_persistables(None, str(tmp_path), program)
        for name in names:
            scope.var(name).get_tensor().set(np.zeros(elements, np.float32))
        calls = _split_reads(monkeypatch, 2)
        nio.load_persistables(None, str(tmp_path), program)
        monkeypatch.undo()
        for i, name in enumerate(names):
            assert (scope.find_var(name).get_tensor()._value() == i).all()
    assert sorted(asked for _, _, asked in calls if asked == elements * 4) == [elements * 4] * 3


def test_threaded_direct_load_failing_on_one_variable_names_it_and_keeps_the_scope(
        tmp_path, monkeypatch):
    """SEL-LOAD-003: several big files are read by a thread pool after every header passed its
    checks.  When a file is truncated in place between its header check and its payload read
    (by another program: this package's saves rename, never truncate), the error names that
    variable and no scope value changed — not even the tensors that would be filled in place,
    since fresh arrays are filled first.  A file cut short before the load is caught by the
    checks, also naming the first bad variable in order."""
    from fluidspec.numba_kernels import _direct

    names = ["v0", "v1", "v2", "v3"]
    program = _program_with(names, [BIG])
    scope = Scope()
    with scope_guard(scope):
        for i, name in enumerate(names):
            scope.var(name).get_tensor().set(np.full(BIG, i + 1, np.float32))
        nio.save_persistables(None, str(tmp_path), program)
        for name in names:  # v1 and v2 will need fresh arrays (float64 in the scope now)
            dtype = np.float64 if name in ("v1", "v2") else np.float32
            scope.var(name).get_tensor().set(np.zeros(BIG, dtype))
        before = {name: scope.find_var(name).get_tensor()._value() for name in names}

        def assert_unchanged() -> None:
            for name in names:
                value = scope.find_var(name).get_tensor()._value()
                assert value is before[name]
                assert not value.any()

        real_plan = _direct.plan_read

        def plan_then_truncate(fd, path, var, size):
            planned = real_plan(fd, path, var, size)
            if var == "v2":
                os.truncate(path, size - 4)  # the same inode the load holds open
            return planned

        monkeypatch.setattr(_direct, "plan_read", plan_then_truncate)
        with pytest.raises(FluidSpecError) as info:
            nio.load_persistables(None, str(tmp_path), program)
        assert type(info.value).__name__ == "MissingFileError"
        assert info.value.var == "v2"
        assert_unchanged()
        monkeypatch.undo()

        for bad in ("v3", "v1"):
            path = tmp_path / bad
            path.write_bytes(path.read_bytes()[:-4])
        with pytest.raises(FluidSpecError) as info:
            nio.load_persistables(None, str(tmp_path), program)
        assert type(info.value).__name__ == "TruncatedError"
        assert info.value.var == "v1"
        assert_unchanged()


@pytest.mark.parametrize("size", [4, BIG], ids=["small", "big"])
def test_separate_load_reports_the_first_bad_variable_before_a_later_missing_file(tmp_path,
                                                                                  size):
    """SEL-LOAD-001/003: ``a`` is cut short and ``b`` is missing; as in the reference (which
    reads variable by variable), ``a``'s TRUNCATED wins over ``b``'s MISSING_FILE, also when
    the direct path opens every file before reading any."""
    outcomes = []
    for mod in (rio, nio):
        program = _program_with(["a", "b"], [size])
        root = tmp_path / mod.__name__
        scope = Scope()
        with scope_guard(scope):
            for name in ("a", "b"):
                scope.var(name).get_tensor().set(np.ones(size, np.float32))
            rio.save_persistables(None, str(root), program)
            (root / "a").write_bytes((root / "a").read_bytes()[:-2])
            (root / "b").unlink()
            with pytest.raises(FluidSpecError) as info:
                mod.load_persistables(None, str(root), program)
        outcomes.append((info.value.id, info.value.var))
    assert outcomes == [("TRUNCATED", "a")] * 2


@pytest.fixture(params=["adaptive", "pool"])
def file_threads(request, monkeypatch):
    """Many small files go to a thread pool only when the first ones were slow (a device
    wait); "pool" makes every probe count as slow, so the threaded path runs here too."""
    from fluidspec.numba_kernels import _files

    if request.param == "pool":
        monkeypatch.setattr(_files, "_POOL_PAYS_S", 0.0)
    return request.param


@pytest.mark.parametrize("damage", ["missing", "truncated-and-missing"])
def test_threaded_many_file_load_reports_the_first_bad_variable_and_keeps_the_scope(
        tmp_path, damage, file_threads):
    """SEL-LOAD-001/003: 300 small files are opened and read (by a thread pool when it pays);
    the error is the reference's (first bad variable in order) and no scope value changes."""
    names = [f"v{i:03d}" for i in range(300)]
    program = _program_with(names, [4])
    outcomes = []
    for mod in (rio, nio):
        root = tmp_path / mod.__name__
        scope = Scope()
        with scope_guard(scope):
            for i, name in enumerate(names):
                scope.var(name).get_tensor().set(np.full(4, i, np.float32))
            rio.save_persistables(None, str(root), program)
            for name in names:
                scope.var(name).get_tensor().set(np.zeros(4, np.float32))
            (root / "v200").unlink()
            if damage == "truncated-and-missing":
                (root / "v100").write_bytes((root / "v100").read_bytes()[:-1])
            with pytest.raises(FluidSpecError) as info:
                mod.load_persistables(None, str(root), program)
            assert all(not scope.find_var(n).get_tensor()._value().any() for n in names)
        outcomes.append((info.value.id, info.value.var))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0] == (("MISSING_FILE", "v200") if damage == "missing"
                           else ("TRUNCATED", "v100"))


def test_threaded_many_file_load_matches_the_saved_values(tmp_path, file_threads):
    names = [f"v{i:03d}" for i in range(300)]
    program = _program_with(names, [3, 2])
    scope = Scope()
    with scope_guard(scope):
        for i, name in enumerate(names):
            scope.var(name).get_tensor().set(np.full((3, 2), i, np.int64 if i % 2 else np.float32))
        nio.save_persistables(None, str(tmp_path), program)
        fresh = Scope()
        with scope_guard(fresh):
            nio.load_persistables(None, str(tmp_path), program)
            for i, name in enumerate(names):
                value = fresh.find_var(name).get_tensor()._value()
                assert value.dtype == (np.int64 if i % 2 else np.float32)
                np.testing.assert_array_equal(value, np.full((3, 2), i))


@pytest.mark.parametrize("loaded, named", [
    ({"a": (2, 3), "b": (7, 2), "c": (9,), "d": (5,)}, None),  # -1 matches; c is no Parameter
    ({"a": (2, 3), "b": (3, 3), "c": (4,), "d": (6,)}, "b"),    # two differ: the first, sorted
    ({"a": (3, 2), "b": (7, 2), "c": (4,), "d": (6,)}, "a"),
], ids=["none", "b-then-d", "a-then-d"])
def test_only_parameters_shapes_are_checked_and_the_first_mismatch_is_named(loaded, named):
    """SEL-LOAD-002 against the reference: Parameters' loaded dims equal their declared ones
    (-1 matches any), other variables are not checked, and among several mismatches the first
    in the combined stream's order is the error."""
    from fluidspec.reference import codec

    arrays = {name: np.zeros(shape, np.float32) for name, shape in loaded.items()}
    data = codec.encode_combined([(arrays[name], []) for name in sorted(arrays)])
    outcomes = []
    for mod in (rio, nio):
        program = Program()
        block = program.global_block()
        for name, shape in {"a": [2, 3], "b": [-1, 2], "d": [5]}.items():
            block.create_parameter(name=name, shape=shape, dtype="float32")
        block.create_var(name="c", shape=[4], dtype="float32", persistable=True)
        scope = Scope()
        with scope_guard(scope):
            try:
                mod.load_persistables(None, None, program, filename=data)
            except FluidSpecError as exc:
                outcomes.append((exc.id, exc.var))
            else:
                outcomes.append({n: scope.find_var(n).get_tensor()._array.shape for n in arrays})
    assert outcomes[0] == outcomes[1]
    if named is None:
        assert outcomes[1] == {n: tuple(s) for n, s in loaded.items()}
    else:
        assert outcomes[1] == ("SHAPE_MISMATCH", named)


@pytest.mark.parametrize("mode", ["memory", "combined", "separate"])
def test_loaded_arrays_are_aligned_writable_and_apart_from_the_input(tmp_path, mode):
    """Records are packed at odd offsets (FMT-REC-005): whatever a bulk load does with the bytes
    (moves the payloads inside a file it read itself, or copies them out of the caller's
    buffer), each loaded array is aligned for its dtype, writable and disjoint from every other
    one, every LoD is the one saved, and a caller's buffer is left exactly as it was."""
    from fluidspec.reference import codec

    names = [f"v{i:03d}" for i in range(40)]
    arrays = [np.arange(3 + i % 4, dtype=np.float64 if i % 3 == 0 else np.float32) + i
              for i in range(40)]
    # LoDs on the first record and on others: a move of the payloads before the LoDs were
    # read would overwrite them (the first record's lie where the earliest payloads go)
    lods = [[[0, 1, len(a)]] if i % 5 == 0 else [] for i, a in enumerate(arrays)]
    program = Program()
    for name, array in zip(names, arrays, strict=True):
        program.global_block().create_parameter(name=name, shape=list(array.shape),
                                                dtype=str(array.dtype))
    data = bytearray(codec.encode_combined(list(zip(arrays, lods, strict=True))))
    before = bytes(data)
    if mode == "separate":
        for name, array, lod in zip(names, arrays, lods, strict=True):
            (tmp_path / name).write_bytes(codec.encode_lod_tensor(array, lod))
    elif mode == "combined":
        (tmp_path / "all").write_bytes(before)
    scope = Scope()
    with scope_guard(scope):
        dirname = None if mode == "memory" else str(tmp_path)
        filename = {"memory": data, "combined": "all", "separate": None}[mode]
        nio.load_params(None, dirname, program, filename=filename)
        loaded = [scope.find_var(name).get_tensor()._array for name in names]
        assert [scope.find_var(name).get_tensor().lod() for name in names] == lods
    assert bytes(data) == before
    source = np.frombuffer(data, np.uint8)
    for i, (value, array) in enumerate(zip(loaded, arrays, strict=True)):
        assert value.flags.aligned and value.flags.writeable, names[i]
        assert not np.shares_memory(value, source)
        np.testing.assert_array_equal(value, array)
        value[...] = -i  # a payload moved over another would show up below
    for i, value in enumerate(loaded):
        assert (value == -i).all(), names[i]


class _BoundEnum:
    """An element type as a pybind11 enum gives it (Paddle's ``core.VarDesc.VarType``): ``int()``
    makes it a code, but it never equals an int."""

    def __init__(self, code):
        self.code = code

    def __int__(self):
        return self.code

    def __eq__(self, other):
        return isinstance(other, _BoundEnum) and other.code == self.code

    __hash__ = None


@pytest.mark.parametrize("shapes_as", [list, np.array], ids=["list", "ndarray"])
@pytest.mark.parametrize("where", ["memory", "file", "big-file"])
@pytest.mark.parametrize("damage", ["none", "dtype", "shape", "count", "truncated", "trailing"])
def test_loads_judge_a_model_whose_enums_are_no_ints_and_whose_shapes_are_lists(
        monkeypatch, tmp_path, where, damage, shapes_as):
    """SEL-LOAD-002/004/005, FMT-SAFE-001, FMT-COMB-002 when the Fluid object model is not ours:
    declared element types that only ``int()`` turns into codes, declared shapes as lists or
    numpy arrays —
    from memory, from a file parsed in one pass, and from a file of one big record (read
    straight into its array, or judged whole when that declines it).  The outcome (values, or
    error id and variable) is the reference's on our own object model."""
    from fluidspec.reference import _framework, codec

    names = ["a"] if where == "big-file" else ["a", "b", "c"]
    shape = [2, BIG // 2] if where == "big-file" else [2, 3]
    size = shape[0] * shape[1]
    arrays = {n: (np.arange(size, dtype=np.float32) + i).reshape(shape)
              for i, n in enumerate(names)}
    last = names[-1]
    if damage == "dtype":
        arrays[last] = arrays[last].astype(np.float64)
    if damage == "shape":
        arrays[last] = arrays[last].reshape(shape[::-1])
    records = [(arrays[n], []) for n in names] + ([(arrays["a"], [])] if damage == "count" else [])
    data = codec.encode_combined(records)
    data = {"truncated": data[:-5], "trailing": data + b"\0\0\0"}.get(damage, data)
    (tmp_path / "all").write_bytes(data)

    def outcome(mod):
        scope = Scope()
        with scope_guard(scope):
            try:
                mod.load_params(None, None if where == "memory" else str(tmp_path),
                                _program_with(names, shape, parameter=True),
                                filename=data if where == "memory" else "all")
            except FluidSpecError as exc:
                # the count mismatch's message names the first dtype that differs
                return (exc.id, exc.var, exc.offset,
                        str(exc) if exc.id == "RECORD_COUNT_MISMATCH" else None)
        return {n: scope.find_var(n).get_tensor()._array.tolist() for n in names}

    expected = outcome(rio)
    dtype_of, shape_of = _framework.Variable.dtype.fget, _framework.Variable.shape.fget
    monkeypatch.setattr(_framework.Variable, "dtype",
                        property(lambda v: _BoundEnum(int(dtype_of(v)))))
    monkeypatch.setattr(_framework.Variable, "shape",
                        property(lambda v: shapes_as(shape_of(v))))
    assert outcome(nio) == expected
    if damage == "none":
        assert expected == {n: arrays[n].tolist() for n in names}
    else:
        assert expected[0] == {"dtype": "DTYPE_MISMATCH", "shape": "SHAPE_MISMATCH",
                               "count": "RECORD_COUNT_MISMATCH", "truncated": "TRUNCATED",
                               "trailing": "TRAILING_BYTES"}[damage]


@given(st.lists(st.sampled_from(["a", "b", "B", "é", "a/b", "10", "9"]), max_size=8))
def test_each_name_once_first_occurrence_in_either_order(names):
    """SEL-SAVE-004 / FMT-COMB-001: a name selected twice is kept once, at its first
    occurrence; combined files take the names in code-point order, separate files in selection
    order (the shortcut for an already rising selection gives the same)."""
    from types import SimpleNamespace

    from fluidspec.numba_kernels import _selection

    variables = [SimpleNamespace(name=n, at=i) for i, n in enumerate(names)]
    selected = _selection.Selection(variables, list(range(len(names))))
    first = {}
    for v in variables:
        first.setdefault(v.name, v)
    by_order = _selection.first_per_name(selected)
    assert by_order.names == list(first) and by_order.vars == list(first.values())
    assert by_order.kinds == [v.at for v in first.values()]
    by_name = _selection.sorted_unique(selected)
    assert by_name.names == sorted(first)
    assert by_name.vars == [first[n] for n in sorted(first)]
    assert by_name.kinds == [first[n].at for n in sorted(first)]
