"""The bench's Paddle 2.6.2 worker: one timing per request, errors reported, not hung on."""

from __future__ import annotations

import pytest

from fluidspec import _bench_paddle_peer as pp


@pytest.fixture
def peer(tmp_path):
    if not pp.PYTHON.exists():
        pytest.skip("no Paddle environment at .venv-paddle (scripts/_paddle_env.sh creates it)")
    peer = pp.PaddlePeer(str(tmp_path))
    yield peer
    peer.close()


def test_the_worker_times_each_op_of_a_prepared_case(peer, tmp_path):
    assert peer.prepare("c", 3, 256, False)
    for op in ("encode", "decode", "save", "load"):
        got = peer.timer(op)()
        assert isinstance(got, pp.Elapsed) and got.seconds > 0
    assert len(list(tmp_path.iterdir())) == 1  # the loads' files: each save's directory is gone
    assert peer.prepare("s", 2, 256, True)
    assert peer.timer("save")().seconds > 0
    # a separate save's directory stays until close: removing many files slows the next creates
    assert len(list(tmp_path.iterdir())) == 2
    with pytest.raises(RuntimeError, match="no such timing"):
        peer.timer("encode")()  # a separate case has no in-memory stream
    peer.close()
    assert list(tmp_path.iterdir()) == []


def test_without_paddle_the_peer_says_why(monkeypatch, tmp_path):
    monkeypatch.setattr(pp, "PYTHON", tmp_path / "absent" / "python")
    peer = pp.PaddlePeer(str(tmp_path))
    assert not peer.present and "no Paddle environment" in peer.why_not
    assert peer.prepare("c", 1, 256, False) is False
