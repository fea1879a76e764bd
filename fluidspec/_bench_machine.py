"""Which machine a bench ran on, recorded beside its results.

A ratio measured side by side holds for the machine it was measured on: the separate save of
10,000 small files took 0.56 of the plain Python loop on one 2-core VM and 0.88 on another.
So the main run and the sweep each record ``machine`` in the bench JSON, and the CLI and the
performance page say it, so that runs from different machines are never set side by side
unmarked."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any


def describe(directory: str) -> dict[str, Any]:
    """This machine as the bench JSON records it; ``directory`` is where the bench writes its
    files.  A field that cannot be read here is None."""
    return {
        "cpu": cpu_model(_read("/proc/cpuinfo")),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": _memory_gib(),
        "kernel": f"{platform.system()} {platform.release()}",
        "huge_pages": huge_page_mode(_read("/sys/kernel/mm/transparent_hugepage/enabled")),
        "filesystem": filesystem_of(directory, _read("/proc/self/mounts")),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "numba": _version("numba"),
    }


def summary(machine: dict[str, Any] | None) -> str:
    """One line for a reader: ``machine`` as ``describe`` gave it, or that none was recorded."""
    if not machine:
        return "not recorded (the run predates the record)"

    def known(value: Any) -> str:
        return "?" if value is None else str(value)

    fs = machine.get("filesystem") or {}
    journal = {True: ", journal", False: ", no journal"}.get(fs.get("journal"), "")
    return (f"{known(machine.get('cpu'))}, {known(machine.get('usable_cpus'))} of "
            f"{known(machine.get('logical_cpus'))} CPUs usable, "
            f"{known(machine.get('memory_gib'))} GiB, {known(machine.get('kernel'))}, "
            f"transparent huge pages {known(machine.get('huge_pages'))}, "
            f"{known(fs.get('type'))} on {known(fs.get('mount'))}{journal}; "
            f"Python {known(machine.get('python'))}, numpy {known(machine.get('numpy'))}, "
            f"numba {known(machine.get('numba'))}")


def cpu_model(cpuinfo: str | None) -> str | None:
    """The first ``model name`` of ``/proc/cpuinfo`` (x86), else its ``Hardware`` or
    ``CPU part`` line, else what ``platform`` says."""
    for key in ("model name", "Hardware", "CPU part"):
        for line in (cpuinfo or "").splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key and value.strip():
                return " ".join(value.split())
    return platform.processor() or platform.machine() or None


def huge_page_mode(enabled: str | None) -> str | None:
    """The bracketed choice of ``/sys/kernel/mm/transparent_hugepage/enabled``
    (``always [madvise] never`` -> ``madvise``)."""
    text = enabled or ""
    start, end = text.find("["), text.find("]")
    return text[start + 1:end] if 0 <= start < end else None


def filesystem_of(directory: str, mounts: str | None) -> dict[str, Any] | None:
    """The mount holding ``directory``, from ``/proc/self/mounts``: its type, mount point and
    device, and for ext4 whether it keeps a journal (a jbd2 instance of its device)."""
    path = os.path.realpath(directory)
    best: tuple[str, str, str] | None = None
    for line in (mounts or "").splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        device, mount, kind = fields[0], _unescape(fields[1]), fields[2]
        inside = path == mount or path.startswith(mount.rstrip("/") + "/")
        if inside and (best is None or len(mount) >= len(best[1])):
            best = (device, mount, kind)
    if best is None:
        return None
    device, mount, kind = best
    out: dict[str, Any] = {"type": kind, "mount": mount, "device": device, "journal": None}
    name = os.path.basename(device)
    if kind == "ext4" and os.path.isdir(f"/proc/fs/ext4/{name}"):
        out["journal"] = os.path.isdir(f"/proc/fs/jbd2/{name}-8")
    return out


def _unescape(field: str) -> str:
    """A mount point as ``/proc/self/mounts`` writes it, with its octal escapes (``\\040``
    for a space) undone."""
    return field.encode("latin-1").decode("unicode_escape") if "\\" in field else field


def _memory_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30), 1)
    except (AttributeError, OSError, ValueError):
        return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None
