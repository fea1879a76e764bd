"""Saves killed with SIGKILL at random points: SAFE-ATOMIC-001/002.

100 trials.  In each, a forked child saves the same 40 small variables over and over — separate
files, then one combined file — each save with new values (generation ``g``: variable ``i`` holds
``g * 1000 + i``), and the parent kills it with SIGKILL after a random delay.  Afterwards every file
under a final name must be a complete record of one generation that was really written (the old
or a new one; for the combined file, one generation for all records), loads must succeed, and
nothing may exist outside ``dirname``.  Forking (not spawning) keeps a trial to milliseconds.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time

import hostile_helpers as hh
import numpy as np
import pytest

from fluidspec import reference as fluid
from fluidspec.reference._codec import decode_combined, decode_tensor_file
from fluidspec.spec.errors import FluidSpecError

IO = hh.io_params()
TRIALS = 100
NAMES = [f"v{i:02d}" if i % 5 else f"grp/v{i:02d}" for i in range(40)]
SIZES = {name: 8 * (i % 8 + 1) for i, name in enumerate(NAMES)}


def _values(generation: int) -> dict[str, np.ndarray]:
    return {n: np.full(SIZES[n], generation * 1000 + i, np.int64) for i, n in enumerate(NAMES)}


def _generation_of(name: str, array: np.ndarray) -> int:
    """The generation a decoded value belongs to; fails if it is no complete value of one."""
    i = NAMES.index(name)
    assert array.dtype == np.int64 and array.shape == (SIZES[name],), (name, array.shape)
    g, rest = divmod(int(array[0]), 1000)
    assert rest == i and np.all(array == array[0]), name
    return g


def _child_saves_forever(io, dirname: str, first_generation: int) -> None:
    """Runs in the forked child: save generation after generation until killed."""
    try:
        with fluid.scope_guard(fluid.Scope()):
            program = hh.build_program(_values(first_generation))
            exe = fluid.Executor(fluid.CPUPlace())
            scope = fluid.global_scope()
            g = first_generation
            while True:
                for name, value in _values(g).items():
                    scope.var(name).get_tensor().set(value, fluid.CPUPlace())
                io.save_vars(exe, dirname, program)
                io.save_vars(exe, dirname, program, filename="all")
                g += 1
    except BaseException:  # noqa: BLE001 - any way out but SIGKILL is a failure
        os._exit(3)


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform != "linux", reason="needs fork")
@pytest.mark.parametrize("io", IO)
def test_sigkill_at_random_points_leaves_only_complete_files(io, tmp_path):
    dirname = tmp_path / "d"
    for _ in range(2):  # the second, warm round is timed
        with fluid.scope_guard(fluid.Scope()):
            setup = time.perf_counter()
            program = hh.build_program(_values(0))
            exe = fluid.Executor(fluid.CPUPlace())
            io.save_vars(exe, str(dirname), program)
            io.save_vars(exe, str(dirname), program, filename="all")
            # What one child iteration costs on this machine, so that the kills land inside
            # saves however slow (a loaded CI runner) or fast the machine is.
            one_round = time.perf_counter() - setup
    # A forked child of a big test process first pays copy-on-write page faults, so its first
    # round can take far longer than a round here: time one whole child round too (fork to exit).
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        with fluid.scope_guard(fluid.Scope()):
            program = hh.build_program(_values(0))
            exe = fluid.Executor(fluid.CPUPlace())
            io.save_vars(exe, str(dirname), program)
            io.save_vars(exe, str(dirname), program, filename="all")
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "calibration child failed"
    one_round = max(one_round, time.perf_counter() - started)
    rng = random.Random(20261128)
    written_up_to = 0  # generations < this have been started by some child
    mixed_trials = 0
    mid_save_trials = 0
    finals = set(NAMES) | {"all", "grp"}
    temporaries: set[str] = set()
    start = time.perf_counter()
    for trial in range(TRIALS):
        first = (trial + 1) * 100_000
        pid = os.fork()
        if pid == 0:
            _child_saves_forever(io, str(dirname), first)
        time.sleep(rng.uniform(0.0, 2.0 * one_round))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
            f"trial {trial}: the child ended by itself (status {status}): it failed to save"
        )
        written_up_to = first + 10_000

        generations = set()
        for name in NAMES:  # SAFE-ATOMIC-002: each final name holds a complete record
            data = (dirname / name).read_bytes()
            try:
                decoded = decode_tensor_file(data)
            except FluidSpecError as err:
                pytest.fail(f"trial {trial}: torn file {name}: {err}")
            g = _generation_of(name, decoded.array)
            assert g == 0 or 100_000 <= g < written_up_to
            generations.add(g)
        mixed_trials += len(generations) > 1
        # A kill landed inside a save when it left final names of several generations, or a new
        # temporary file (one exists only between its creation and its rename; an implementation
        # that renames all files at the end of a save mostly shows the latter).
        now = {p for p in hh.snapshot_tree(dirname) if p not in finals}
        mid_save_trials += len(generations) > 1 or bool(now - temporaries)
        temporaries = now
        combined = decode_combined((dirname / "all").read_bytes(), len(NAMES))
        by_name = dict(zip(sorted(NAMES), combined, strict=True))
        combined_generations = {_generation_of(n, d.array) for n, d in by_name.items()}
        assert len(combined_generations) == 1, f"trial {trial}: combined file mixes saves"

        # Loads still succeed, with the implementation under test, and agree with the bytes.
        with fluid.scope_guard(fluid.Scope()):
            program = hh.build_program(_values(0), set_values=False)
            io.load_vars(exe, str(dirname), program)
            io.load_vars(exe, str(dirname), program, filename="all")
            loaded = hh.scope_values(NAMES)
        assert {_generation_of(n, a) for n, a in loaded.items()} == combined_generations

    # SAFE-PATH-002: temporary files (if a kill left some) stay inside dirname.
    assert sorted(os.listdir(tmp_path)) == ["d"]
    leftovers = [p for p in hh.snapshot_tree(dirname) if p not in NAMES and p not in ("all", "grp")]
    elapsed = time.perf_counter() - start
    print(f"{TRIALS} kills in {elapsed:.1f}s: {mid_save_trials} inside a save "
          f"({mixed_trials} leaving files of several generations), "
          f"{len(leftovers)} temporary files left behind")
    # The test proves something only if kills really landed in the middle of saves.
    assert mid_save_trials >= TRIALS // 10, f"only {mid_save_trials} kills landed mid-save"


@pytest.mark.parametrize("io", IO)
def test_a_save_that_fails_validation_changes_nothing(io, tmp_path):
    # SAFE-ATOMIC-002 / SEL-SAVE-008: an uninitialised variable sorted last is found before the
    # first file is written, in both modes.
    dirname = tmp_path / "d"
    with fluid.scope_guard(fluid.Scope()):
        program = hh.build_program(_values(0))
        exe = fluid.Executor(fluid.CPUPlace())
        io.save_vars(exe, str(dirname), program)
        io.save_vars(exe, str(dirname), program, filename="all")
        before = hh.snapshot_tree(tmp_path)
        for name, value in _values(1).items():
            fluid.global_scope().var(name).get_tensor().set(value, fluid.CPUPlace())
        program.global_block().create_var(name="zz_uninit", shape=[1], dtype="int64",
                                          persistable=True)
        for filename in (None, "all"):
            with pytest.raises(FluidSpecError) as info:
                io.save_vars(exe, str(dirname), program, filename=filename)
            assert info.value.id == "UNINITIALIZED", str(info.value)
            assert hh.snapshot_tree(tmp_path) == before


@pytest.mark.parametrize("io", IO)
def test_a_save_whose_rename_fails_half_way_leaves_loadable_files(io, tmp_path, monkeypatch):
    # SAFE-ATOMIC-002: a disk error in the middle (the 11th rename fails) deletes nothing and
    # truncates nothing; the previous save still loads, file by file old or new.
    dirname = tmp_path / "d"
    with fluid.scope_guard(fluid.Scope()):
        program = hh.build_program(_values(0))
        exe = fluid.Executor(fluid.CPUPlace())
        io.save_vars(exe, str(dirname), program)
        for name, value in _values(1).items():
            fluid.global_scope().var(name).get_tensor().set(value, fluid.CPUPlace())
        calls = {"n": 0}
        real_replace, real_rename = os.replace, os.rename

        def failing(real):
            def move(src, dst, *args, **kwargs):
                calls["n"] += 1
                if calls["n"] == 11:
                    raise OSError(28, "No space left on device (simulated)")
                return real(src, dst, *args, **kwargs)
            return move

        monkeypatch.setattr(os, "replace", failing(real_replace))
        monkeypatch.setattr(os, "rename", failing(real_rename))
        with pytest.raises((OSError, FluidSpecError)):
            io.save_vars(exe, str(dirname), program)
        monkeypatch.undo()
        generations = set()
        for name in NAMES:
            generations.add(_generation_of(name, decode_tensor_file((dirname / name).read_bytes())
                                           .array))
        assert generations <= {0, 1}
        with fluid.scope_guard(fluid.Scope()):
            loaded_program = hh.build_program(_values(0), set_values=False)
            io.load_vars(exe, str(dirname), loaded_program)
            assert {_generation_of(n, a) for n, a in hh.scope_values(NAMES).items()} == generations
    if calls["n"] >= 11:  # the implementation renames: a temporary file must not be left behind
        extra = [p for p in hh.snapshot_tree(dirname) if p not in NAMES and p != "grp"]
        assert extra == []
