"""fluidspec.reference._files: safe name-to-path mapping and atomic writes (SEL-PATH-*, SEL-SAVE-008)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fluidspec.reference import _files
from fluidspec.spec.errors import MissingFileError, UnsafeNameError


@pytest.mark.parametrize(
    ("name", "parts"),
    [("w", ["w"]), ("enc/layer.0/w", ["enc", "layer.0", "w"]), ("a b", ["a b"]),
     ("é/中", ["é", "中"]), ("..x", ["..x"]), (".hidden", [".hidden"])],
)
def test_ordinary_names_map_like_paddle(name, parts):  # SEL-FILE-001
    assert _files.name_components(name) == parts
    assert _files.resolve(Path("/d"), name) == Path("/d", *parts)


@pytest.mark.parametrize(
    "name", ["", ".", "..", "../x", "a/..", "/abs", "a//b", "trail/", "a/./b", "n\x00ul", "x" * 256,
             None, b"bytes"],
)
def test_unsafe_names(name):  # SEL-PATH-001
    with pytest.raises(UnsafeNameError) as info:
        _files.name_components(name, var="v")
    assert info.value.var == "v" and info.value.id == "UNSAFE_NAME"


def test_prefix_collisions():  # SEL-PATH-002
    _files.check_no_prefix_collisions(["a", "ab/c", "a.b", "b/a"])
    with pytest.raises(UnsafeNameError):
        _files.check_no_prefix_collisions(["x/y/z", "x/y"])


def test_targets_that_are_directories_or_below_files(tmp_path):  # SEL-PATH-002
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_bytes(b"")
    _files.check_writable_target(tmp_path, tmp_path / "new" / "x")
    with pytest.raises(UnsafeNameError):
        _files.check_writable_target(tmp_path, tmp_path / "dir")
    with pytest.raises(UnsafeNameError):
        _files.check_writable_target(tmp_path, tmp_path / "file" / "deeper" / "x")


def test_checked_dirname_normalises_and_refuses_non_paths(tmp_path):  # SEL-PATH-001
    assert _files.checked_dirname(str(tmp_path) + "/a/../b/") == tmp_path / "b"
    assert _files.checked_dirname(tmp_path) == tmp_path
    for bad in ("", None, 3, "a\x00b"):
        with pytest.raises(UnsafeNameError):
            _files.checked_dirname(bad)


def test_atomic_write_creates_parents_and_replaces(tmp_path):  # SEL-SAVE-008
    target = tmp_path / "a" / "b" / "f"
    _files.atomic_write(target, b"one")
    _files.atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["f"]  # no temporary left behind


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):  # SEL-SAVE-008
    target = tmp_path / "f"
    _files.atomic_write(target, b"good")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_files.os, "replace", broken_replace)
    with pytest.raises(OSError):
        _files.atomic_write(target, b"new content")
    assert target.read_bytes() == b"good" and os.listdir(tmp_path) == ["f"]


def test_read_bytes_reads_on_when_a_call_moves_fewer_bytes_than_asked(tmp_path, monkeypatch):
    """One read call moves at most ~2 GiB on Linux: the read goes on until the file's size is
    read, and a file that ends early (shrank meanwhile) gives the bytes it had."""
    data = bytes(range(256)) * 100
    path = tmp_path / "f"
    path.write_bytes(data)
    real_open = Path.open
    cut = {"at": len(data)}

    class ShortReads:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def fileno(self):
            return self.handle.fileno()

        def readinto(self, buffer):
            left = cut["at"] - self.handle.tell()
            return self.handle.readinto(memoryview(buffer)[:max(0, min(997, left))])

    monkeypatch.setattr(Path, "open", lambda self, *a, **k: ShortReads(real_open(self, *a, **k)))
    assert bytes(_files.read_bytes(path)) == data
    cut["at"] = 10_000
    assert bytes(_files.read_bytes(path)) == data[:10_000]


def test_read_bytes_missing_file(tmp_path):  # SEL-LOAD-001
    (tmp_path / "d").mkdir()
    for path in (tmp_path / "nothing", tmp_path / "d"):
        with pytest.raises(MissingFileError) as info:
            _files.read_bytes(path, var="v")
        assert info.value.path == str(path) and info.value.var == "v"
    (tmp_path / "f").write_bytes(b"xy")
    assert _files.read_bytes(tmp_path / "f") == b"xy"
