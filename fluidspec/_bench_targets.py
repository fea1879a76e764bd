"""The performance targets of ``fluidspec bench``, and their verdicts on one run's results.

Every target compares medians measured side by side in the same run (the bench interleaves the
implementations round by round); the ratio of the minima is reported beside it.  A target whose
measurements are absent is "not measured" — never "met" — and says why (no Paddle, a case not
run, sizes that differ between the two sides).

A ``ratio<=`` or ``speed>=`` target may name a floor: a row of the same run doing only the work
every implementation does (``fluidspec._bench_api``, or a plain memory copy).  Its own ratio to
the same baseline is reported beside the target's.  A target is "out of reach" in that run when
it is missed, the floor alone misses the bound too, and the floor was no slower than the
implementation (a floor slower than what it bounds proves nothing): measured proof, not an
excuse written by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["ratio<=", "speed>=", "us-per-tensor<=", "seconds-over<="]
BIG, SMALL, SEPARATE, JIT = ("1x256MiB-f32-combined", "10000x1KiB-f32-combined",
                             "10000x1KiB-f32-separate", "jit")
PADDLE = "paddle-2.6.2"


@dataclass(frozen=True)
class Target:
    """``impl``'s median for (case, op) against the fastest median of ``against``.

    ``ratio<=``: time ratio at most ``bound``; ``speed>=``: against's time over impl's time at
    least ``bound`` (a throughput ratio or a speed-up); ``us-per-tensor<=``: impl's median per
    tensor in µs; ``seconds-over<=``: impl's median minus against's median, in seconds.
    ``floor``: the row of the least work any implementation does (see the module doc).
    """

    name: str
    case: str
    op: str
    impl: str
    against: tuple[str, ...]
    kind: Kind
    bound: float
    floor: str | None = None


TARGETS: tuple[Target, ...] = (
    Target("save 1x256MiB: time / faster of numpy save and plain write", BIG, "save", "numba",
           ("numpy", "limit-python-files"), "ratio<=", 1.15, floor="limit-stream-write"),
    Target("load 1x256MiB: time / Paddle 2.6.2 load_vars", BIG, "load", "numba", (PADDLE,),
           "ratio<=", 1.0, floor="limit-read-fresh"),
    Target("load 1x256MiB: time / numpy.fromfile", BIG, "load", "numba", ("numpy-fromfile",),
           "ratio<=", 1.0),
    Target("save_params 1x256MiB: time / faster of numpy save and plain write", BIG, "save",
           "numba-api", ("numpy", "limit-python-files"), "ratio<=", 1.15,
           floor="limit-stream-write"),
    Target("load_params 1x256MiB into the scope's tensor: time / Paddle 2.6.2 load_vars", BIG,
           "load", "numba-api", (PADDLE,), "ratio<=", 1.0),
    Target("save 10000x1KiB combined: time / one plain write", SMALL, "save", "numba",
           ("limit-python-files",), "ratio<=", 2.0, floor="limit-gather-write"),
    Target("load 10000x1KiB combined: time / one plain read", SMALL, "load", "numba",
           ("limit-python-files",), "ratio<=", 2.0, floor="limit-read-pairs"),
    Target("load 10000x1KiB combined: time / plain read + one view per tensor (floor)", SMALL,
           "load", "numba", ("limit-read-views",), "ratio<=", 2.0, floor="limit-read-pairs"),
    Target("save_params 10000x1KiB combined: time / one plain write", SMALL, "save",
           "numba-api", ("limit-python-files",), "ratio<=", 2.0, floor="limit-fluid-objects"),
    Target("load_params 10000x1KiB combined: time / one plain read", SMALL, "load",
           "numba-api", ("limit-python-files",), "ratio<=", 2.0, floor="limit-fluid-objects"),
    Target("save_params 10000x1KiB combined: time / Fluid-object floor", SMALL, "save",
           "numba-api", ("limit-fluid-objects",), "ratio<=", 2.0),
    Target("load_params 10000x1KiB combined: time / Fluid-object floor", SMALL, "load",
           "numba-api", ("limit-fluid-objects",), "ratio<=", 2.0),
    Target("save 10000x1KiB separate: time / plain Python loop", SEPARATE, "save", "numba",
           ("limit-python-files",), "ratio<=", 0.7, floor="limit-directory-ops"),
    Target("load 10000x1KiB separate: time / plain Python loop", SEPARATE, "load", "numba",
           ("limit-python-files",), "ratio<=", 0.7),
    Target("first save in a fresh process: s over the numba floor", JIT, "first-save", "numba",
           ("numba-floor",), "seconds-over<=", 0.15),
    Target("fluidspec inspect FILE: s over python -c pass", JIT, "cli-start",
           "fluidspec-inspect", ("python-pass",), "seconds-over<=", 0.3),
    Target("reference save 1x256MiB: time / numpy save", BIG, "save", "reference", ("numpy",),
           "ratio<=", 2.0),
    Target("reference load 1x256MiB: time / numpy load", BIG, "load", "reference", ("numpy",),
           "ratio<=", 2.0),
    Target("encode 1x256MiB: throughput / fresh numpy copy", BIG, "encode", "numba",
           ("limit-memcpy-fresh",), "speed>=", 0.9),
    Target("decode-copy 1x256MiB: throughput / fresh numpy copy", BIG, "decode-copy", "numba",
           ("limit-memcpy-fresh",), "speed>=", 0.9),
    Target("encode 10000x1KiB combined: µs per tensor", SMALL, "encode", "numba", (),
           "us-per-tensor<=", 1.0),
    Target("decode 10000x1KiB combined: µs per tensor", SMALL, "decode", "numba", (),
           "us-per-tensor<=", 1.0),
    Target("encode 1x256MiB: speed-up over Paddle save-to-memory", BIG, "encode", "numba",
           (PADDLE,), "speed>=", 15, floor="limit-memcpy-fresh"),
    Target("decode 1x256MiB zero-copy: speed-up over Paddle load-from-memory", BIG, "decode",
           "numba", (PADDLE,), "speed>=", 100),
    Target("warm start with JIT cache: s", JIT, "warm-start", "numba", (), "seconds-over<=", 0.5),
)


def _row(results: Iterable[Any], case: str, op: str, impl: str) -> dict[str, Any] | None:
    for r in results:
        row = r if isinstance(r, dict) else vars(r)
        if (row["case"], row["op"], row["impl"]) == (case, op, impl):
            return row
    return None


def need_text(t: Target) -> str:
    op = ">=" if t.kind == "speed>=" else "<="
    return f"{op} {t.bound:g}"


def _impl(r: Any) -> str:
    return r["impl"] if isinstance(r, dict) else r.impl


def judge(t: Target, results: Sequence[Any]) -> dict[str, Any]:
    """One target's verdict: ``value`` (medians), ``value_min`` (minima), ``met`` (None when not
    measured) and ``verdict`` ("met", "not met" or "not measured (why)")."""
    out: dict[str, Any] = {"target": t.name, "case": t.case, "op": t.op, "impl": t.impl,
                           "against": list(t.against), "kind": t.kind, "bound": t.bound,
                           "need": need_text(t), "value": None, "value_min": None, "met": None}
    mine = _row(results, t.case, t.op, t.impl)
    peers = [p for p in (_row(results, t.case, t.op, a) for a in t.against) if p is not None]
    peers = [p for p in peers if mine is None or (p["bytes"], p["count"]) ==
             (mine["bytes"], mine["count"])]
    why = None
    if mine is None:
        why = f"{t.impl} not run"
    elif t.against and not peers:
        if PADDLE in t.against and not any(_impl(r) == PADDLE for r in results):
            why = "no Paddle"
        else:
            why = f"{' / '.join(t.against)} not run at the same size"
    if why is not None:
        return dict(out, verdict=f"not measured ({why})")
    assert mine is not None
    if t.kind == "us-per-tensor<=":
        value, low = (mine["median_s"] / mine["count"] * 1e6, mine["min_s"] / mine["count"] * 1e6)
    elif t.kind == "seconds-over<=":
        base_med = min((p["median_s"] for p in peers), default=0.0)
        base_min = min((p["min_s"] for p in peers), default=0.0)
        value, low = mine["median_s"] - base_med, mine["min_s"] - base_min
    else:
        base_med = min(p["median_s"] for p in peers)
        base_min = min(p["min_s"] for p in peers)
        if t.kind == "ratio<=":
            value, low = mine["median_s"] / base_med, mine["min_s"] / base_min
        else:
            value, low = base_med / mine["median_s"], base_min / mine["min_s"]
    met = value >= t.bound if t.kind == "speed>=" else value <= t.bound
    out = dict(out, value=round(value, 4), value_min=round(low, 4), met=met,
               verdict="met" if met else "not met")
    floor = (_row(results, t.case, t.op, t.floor)
             if t.floor and t.kind in ("ratio<=", "speed>=") else None)
    if floor is not None and (floor["bytes"], floor["count"]) == (mine["bytes"], mine["count"]):
        if t.kind == "ratio<=":
            floor_value, floor_min = floor["median_s"] / base_med, floor["min_s"] / base_min
            out_of_reach = not met and t.bound < floor_value <= value
        else:  # a speed: the floor's own speed misses too, and is no lower than ours
            floor_value, floor_min = base_med / floor["median_s"], base_min / floor["min_s"]
            out_of_reach = not met and value <= floor_value < t.bound
        out.update(floor=t.floor, floor_value=round(floor_value, 4),
                   floor_value_min=round(floor_min, 4), out_of_reach=out_of_reach)
        if out_of_reach:
            out["verdict"] = f"not met: out of reach in this run ({t.floor} alone is " \
                             f"{floor_value:.3g}x)"
    return out


def judge_all(results: Sequence[Any]) -> list[dict[str, Any]]:
    return [judge(t, results) for t in TARGETS]


def lines(targets: Sequence[dict[str, Any]]) -> list[str]:
    """The verdicts as the CLI prints them: target, measured (median; min), need, verdict."""
    out = []
    for t in targets:
        value = "-" if t.get("value") is None else f"{t['value']:g}"
        low = "" if t.get("value_min") is None else f" (min {t['value_min']:g})"
        floor = ("" if t.get("floor_value") is None else
                 f"; floor {t['floor']}: {t['floor_value']:g} (min {t['floor_value_min']:g})")
        out.append(f"  {t['target']}: {value}{low}, need {t['need']}{floor} — {t['verdict']}")
    return out
