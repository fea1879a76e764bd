"""fluidspec.numba_kernels.cpu._files: leftovers of killed saves are cleaned up by the next save (SEL-SAVE-008)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from fluidspec.numba_kernels.cpu import _files


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_next_save_removes_temporaries_of_dead_processes_only(tmp_path):
    dead = tmp_path / f"{_files._TMP_PREFIX}{_dead_pid()}-0.tmp"
    live = tmp_path / f"{_files._TMP_PREFIX}{os.getppid()}-0.tmp"  # a process that exists
    unrelated = tmp_path / ".fluidspec-nk-notapid-0.tmp"
    for path in (dead, live, unrelated):
        path.write_bytes(b"partial")
    _files.write_chunks([str(tmp_path / "w")], [np.arange(4, dtype=np.uint8)])
    assert (tmp_path / "w").read_bytes() == bytes(range(4))
    assert not dead.exists()
    assert live.exists() and unrelated.exists()
