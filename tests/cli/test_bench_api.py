"""The floors of ``fluidspec bench`` (``fluidspec._bench_api``) do the work they are named for: a
floor that did more would make a target look out of reach unfairly, one that did less would hide
a target that is."""

from __future__ import annotations

import numpy as np
import pytest

from fluidspec import _bench_api
from fluidspec.reference import codec as ref


def _uniform(n: int = 50, shape: tuple[int, ...] = (4, 3)) -> list[np.ndarray]:
    return [np.full(shape, i, np.float32) for i in range(n)]


def _written(tmp_path, arrs: list[np.ndarray]) -> tuple[str, bytes]:
    encoded = ref.encode_combined([(a, []) for a in arrs])
    path = tmp_path / "combined"
    path.write_bytes(encoded)
    return str(path), encoded


@pytest.mark.parametrize("split", [False, True], ids=["one-read", "in-pieces"])
def test_read_views_and_read_pairs_give_every_record_back(tmp_path, monkeypatch, split):
    if split:  # the file read in one piece per core, as numba_kernels reads a big one
        from fluidspec.numba_kernels import _files

        monkeypatch.setattr(_files, "SPLIT_FROM", 1 << 10)
        monkeypatch.setattr(_files, "_SPLIT_BLOCK", 1 << 8)
        monkeypatch.setattr(_files, "_cores", lambda: 3)
    arrs = _uniform()
    path, _ = _written(tmp_path, arrs)
    nbytes = sum(a.nbytes for a in arrs)
    views = _bench_api.read_views(path, len(arrs), nbytes, (4, 3))()
    pairs = _bench_api.read_pairs(path, len(arrs), nbytes, (4, 3))()
    assert len(views) == len(pairs) == len(arrs)
    for want, view, (array, lod) in zip(arrs, views, pairs, strict=True):
        assert np.array_equal(view, want) and np.array_equal(array, want) and lod == []
    assert len({id(lod) for _, lod in pairs}) == len(pairs)  # one LoD list per record


@pytest.mark.parametrize("shape", [(256,), (16, 16), (2, 3, 4)], ids=str)
def test_gather_write_writes_exactly_the_combined_stream(tmp_path, shape):
    arrs = [np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + i for i in range(2500)]
    encoded = ref.encode_combined([(a, []) for a in arrs])
    target = tmp_path / "out"
    _bench_api.gather_write(lambda: str(target), arrs, encoded)()
    assert target.read_bytes() == encoded  # 2,500 records: several runs of about 1 MiB


def test_gather_write_refuses_what_it_cannot_stand_for(tmp_path):
    arrs = _uniform()
    _, encoded = _written(tmp_path, arrs)
    with pytest.raises(ValueError, match="does not write the case's bytes"):
        _bench_api.gather_write(lambda: str(tmp_path / "x"), arrs[:-1] + [arrs[0]], encoded)
    save = _bench_api.gather_write(lambda: str(tmp_path / "x"), arrs, encoded)
    for i, changed in ((7, arrs[7].astype(np.int32)), (8, arrs[8].reshape(3, 4))):
        kept, arrs[i] = arrs[i], changed  # the timed call still looks at every dtype and shape
        with pytest.raises(ValueError, match="uniform cases only"):
            save()
        arrs[i] = kept
    save()


@pytest.mark.parametrize("array", [np.arange(3 << 18, dtype=np.float32).reshape(3, -1),
                                   np.arange(12, dtype=np.int64)[::2]], ids=["big", "strided"])
def test_stream_write_writes_exactly_the_one_record_stream_into_a_new_file(tmp_path, array):
    encoded = ref.encode_combined([(array, [])])
    target = tmp_path / "out"
    save = _bench_api.stream_write(lambda: str(target), array, encoded)
    save()
    assert target.read_bytes() == encoded
    with pytest.raises(FileExistsError):  # a new file each time, as the bench's new target
        save()


def test_read_fresh_reads_the_payload_after_the_header_into_new_memory(tmp_path):
    array = np.arange(3 << 18, dtype=np.float32)
    target = tmp_path / "one"
    target.write_bytes(ref.encode_combined([(array, [])]))
    load = _bench_api.read_fresh(str(target), array.nbytes)
    first, second = load(), load()
    assert first.tobytes() == second.tobytes() == array.tobytes()
    assert not np.shares_memory(first, second)
    target.write_bytes(target.read_bytes()[:100])  # cut: fewer bytes than the payload
    with pytest.raises((ValueError, OSError)):
        load()


def test_stream_write_refuses_a_stream_of_other_bytes(tmp_path):
    array = np.arange(1000, dtype=np.float32)
    encoded = ref.encode_combined([(array, [])])
    with pytest.raises(ValueError, match="does not write the case's bytes"):
        _bench_api.stream_write(lambda: str(tmp_path / "x"), array + 1, encoded)


@pytest.mark.parametrize("enabled", [True, False])
def test_read_pairs_leaves_the_collector_as_it_found_it(tmp_path, enabled):
    import gc

    arrs = _uniform()
    path, _ = _written(tmp_path, arrs)
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        _bench_api.read_pairs(path, len(arrs), sum(a.nbytes for a in arrs), (4, 3))()
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_directory_ops_links_one_empty_file_per_name_and_nothing_else(tmp_path):
    # past the probe and the threshold of threads of the file layer: the creates run threaded
    names = [f"v{i:04d}" for i in range(2300)]
    made = []

    def fresh_dir() -> str:
        made.append(tmp_path / f"d{len(made)}")
        made[-1].mkdir()
        return str(made[-1])

    setup, save = _bench_api.directory_ops(fresh_dir, names)
    setup()
    assert list(made[0].iterdir()) == []  # the setup only prepares: nothing timed happens there
    save()
    assert sorted(p.name for p in made[0].iterdir()) == names  # nothing but the names
    assert all(p.stat().st_size == 0 for p in made[0].iterdir())
    setup()
    save()  # each timed call gets its own directory
    assert len(made) == 2 and sorted(p.name for p in made[1].iterdir()) == names


def test_directory_ops_says_where_it_stopped(tmp_path):
    names = ["a", "b", "c"]
    setup, save = _bench_api.directory_ops(lambda: str(tmp_path), names)
    setup()
    (tmp_path / "b").write_bytes(b"")  # a link never replaces: b's fails
    with pytest.raises(OSError, match="stopped at b"):
        save()
