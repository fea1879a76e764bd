"""Recording the reads of ``numba_kernels``' file layer: which thread asked for which bytes."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest


def record_preadv(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[tuple[int, int, int]]:
    """Every ``os.preadv`` of the process from now on (patched on ``module.os``, the one
    ``os`` module, so reads from elsewhere are recorded too), as ``(thread, file offset,
    bytes asked)``, and then done as asked."""
    calls: list[tuple[int, int, int]] = []
    real = os.preadv

    def recording(fd: int, buffers: Any, offset: int, *rest: Any) -> int:
        calls.append((threading.get_ident(), offset, sum(memoryview(b).nbytes for b in buffers)))
        return real(fd, buffers, offset, *rest)

    monkeypatch.setattr(module.os, "preadv", recording)
    return calls
