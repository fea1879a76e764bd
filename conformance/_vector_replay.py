"""Replaying frozen vectors (conformance/vectors/*/manifest.json) as checks, one per vector.

Each chapter module of ``fluidspec.conformance.checks`` registers the vectors whose primary clause
is one of its own (``register_vectors``).

Each vector is read through the implementation (values, LoD, rows/height, feed/fetch names must
match; an ``invalid`` vector must fail with its error id; an ``acceptable`` one may do either), and
each valid vector that holds plain saves is written again by the implementation from its values —
byte for byte equal to the vector's files, which for ``paddle-2.6.2`` are real Paddle's bytes.
"""

from __future__ import annotations

import base64
from pathlib import Path

from fluidspec import spec
from fluidspec.conformance._case import Call, Outcome, ProgramSpec, value_from_json
from fluidspec.conformance._context import CheckContext
from fluidspec.conformance._diagnose import diagnose_combined, diagnose_record
from fluidspec.conformance._helpers import expect_error, expect_ok, expect_values, files_under
from fluidspec.conformance._oracle import split_records
from fluidspec.conformance._registry import check
from fluidspec.conformance._vectors import (
    Vector,
    expected_values,
    load_plan,
    save_plan,
    vector_sets,
)
from fluidspec.conformance._verdict import fail, require


def _known(ids: list[str]) -> list[str]:
    have = {c.id for c in spec.clauses()}
    return [c for c in ids if c in have]


def _replay_api_case(ctx: CheckContext, vector: Vector, primary: str) -> None:
    raw = vector.raw
    program = ProgramSpec.from_json(raw["program"])
    scope = {k: value_from_json(v) for k, v in (raw.get("scope") or {}).items()}
    args = dict(raw["call"])
    if args.get("dirname") == "<dir>":
        args["dirname"] = ctx.fresh_dir("v")
    out = ctx.run(program, scope, Call.from_json(args))
    exp = vector.expected
    if exp.get("result") == "invalid":
        expect_error(out, exp["error"], primary, f"vector {vector.id}")
        return
    if exp.get("result") == "acceptable" and not out.ok:
        expect_error(out, exp.get("error") or "", primary, f"vector {vector.id}")
        return
    expect_ok(out, primary, f"vector {vector.id}")
    if exp.get("memory") is not None:
        want = base64.b64decode(exp["memory"])
        require(out.memory == want, primary, f"vector {vector.id}: memory bytes differ")
    for rel, b64 in (exp.get("files") or {}).items():
        path = Path(args["dirname"], rel)
        require(path.is_file(), primary, f"vector {vector.id}: {rel!r} was not written")
        want, got = base64.b64decode(b64), path.read_bytes()
        if want != got:  # the counterexample's clause, with the first differing field
            diag = diagnose_record(want, got, prefix=False)
            raise fail(primary, f"vector {vector.id}: {rel} differs ({diag[1] if diag else ''})")
    want_scope = {k: value_from_json(v) for k, v in (exp.get("scope") or {}).items()}
    expect_values(want_scope, out.scope, None, f"vector {vector.id}")


def _read(ctx: CheckContext, vector: Vector, primary: str) -> None:
    plan = load_plan(vector)
    if plan is None:
        raise fail(primary, f"vector {vector.id}: kind {vector.kind!r} has no load plan")
    program, call, names = plan
    out: Outcome = ctx.run(program, {}, call)
    exp = vector.expected
    what = f"vector {vector.set_name}/{vector.id} ({vector.raw.get('description', '')[:80]})"
    result = exp.get("result")
    if result == "invalid":
        err = exp["error"]
        expect_error(out, tuple(err) if isinstance(err, list) else err, primary, what)
        return
    if result == "acceptable" and not out.ok:
        allowed = exp.get("error")
        expect_error(out, tuple(allowed) if isinstance(allowed, list) else allowed, primary, what)
        return
    expect_ok(out, primary, what)
    expect_values(expected_values(vector), out.scope, None, what)
    if vector.kind == "inference_model":
        for key in ("feed_target_names", "fetch_target_names"):
            if key in exp:
                require(out.result.get(key) == exp[key], "INF-LOAD-003",
                        f"{what}: {key} {out.result.get(key)}, expected {exp[key]}")


def _write(ctx: CheckContext, vector: Vector) -> None:
    plan = save_plan(vector)
    if plan is None:
        return
    program, values, call, written = plan
    d = ctx.fresh_dir("w")
    args = dict(call.args)
    if args.get("dirname") == "<dir>":
        args["dirname"] = d
    out = ctx.run(program, values, Call(call.api, args))
    what = f"writing vector {vector.set_name}/{vector.id} again"
    if not out.ok and out.error_id == "UNSUPPORTED_DTYPE" and "FMT-DTYPE-004" in vector.clauses:
        return  # a 3.x element type this implementation may refuse to write
    if not out.ok and out.error_id == "UNSUPPORTED_DTYPE" and "SEL-SAVE-009" in vector.clauses:
        # SEL-SAVE-009 (MAY): a separate save of bool/complex may be refused with
        # UNSUPPORTED_DTYPE (Paddle 2.6.2 has no save kernel for them); _read still loads the file.
        return
    expect_ok(out, "SEL-SAVE-001", what)
    for rel, vfile in written.items():
        want = vector.path(vfile).read_bytes()
        got = out.memory if rel == "<memory>" else Path(d, rel).read_bytes() \
            if Path(d, rel).is_file() else None
        if got is None:
            raise fail("SEL-FILE-001", f"{what}: {rel!r} was not written ({sorted(files_under(d))})")
        if got == want:
            continue
        if vector.kind in ("combined", "memory") or (vector.kind == "save_dir"
                                                     and call.get("filename")):
            try:
                spans = split_records(want)
            except Exception:
                spans = []
            order = sorted(values)
            records = {n: want[a:b] for n, (a, b) in zip(order, spans, strict=False)}
            diag = diagnose_combined(records, got) if len(records) == len(order) else None
        else:
            diag = diagnose_record(want, got)
        clause, msg = diag or ("FMT-REC-006", "bytes differ")
        raise fail(clause, f"{what}: {rel}: {msg}")


def _primary_and_clauses(vector: Vector) -> tuple[str, list[str]]:
    clauses = _known(vector.clauses) or ["FMT-REC-001"]
    primary = clauses[0]
    if vector.kind == "inference_model":
        clauses = list(dict.fromkeys(["INF-LOAD-002", "INF-LOAD-003", *clauses]))
        primary = "INF-LOAD-002"
    return primary, clauses


def _register(vector: Vector, primary: str, clauses: list[str]) -> None:
    apis: tuple[str, ...] = ("load_inference_model",) if vector.kind == "inference_model" else (
        "load_vars",)

    def run(ctx: CheckContext) -> None:
        if vector.kind == "api_case":
            _replay_api_case(ctx, vector, primary)
            return
        _read(ctx, vector, primary)
        if vector.expected.get("result") == "valid" and "save_vars" in ctx.apis:
            _write(ctx, vector)

    run.__name__ = f"check_vector:{vector.set_name}/{vector.id}"
    run.__doc__ = vector.raw.get("description") or f"vector {vector.id}"
    check(*clauses, apis=apis)(run)


def register_vectors(prefix: str) -> None:
    """Register one check per frozen vector whose primary clause id starts with ``prefix-``."""
    for vector_set in vector_sets():
        for vector in vector_set.vectors:
            primary, clauses = _primary_and_clauses(vector)
            if primary.split("-", 1)[0] == prefix:
                _register(vector, primary, clauses)
