"""Run the conformance suite inside pytest: one test per check × implementation.

    pytest -p fluidspec.conformance.pytest_plugin --pyargs fluidspec.conformance \
        --fluidspec-impl reference --fluidspec-impl "cmd:./my-server"

``--pyargs fluidspec.conformance`` collects ``fluidspec/conformance/test_conformance.py`` (one parametrized test);
``-p fluidspec.conformance.pytest_plugin`` adds the options and the parametrization.  A failure shows the clause, the message, the shrunk example
and the reproduce command; a clause listed in ``conformance/known-failures/<impl>.txt`` (SHOULD or
MAY) is an expected failure (xfail, not strict — a pass is reported by ``fluidspec conformance``
as stale).
"""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["pytest_addoption", "pytest_generate_tests", "pytest_sessionfinish", "run_one"]

_ADAPTERS: dict[str, Any] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fluidspec", "fluidspec conformance suite")
    group.addoption("--fluidspec-impl", action="append", default=[], metavar="IMPL",
                    help="implementation to check (repeatable): reference | numba | "
                         "module:attr | 'cmd:COMMAND' | entry point name")
    group.addoption("--fluidspec-profile", default="ci", choices=("ci", "thorough"),
                    help="Hypothesis effort of the property checks")
    group.addoption("--fluidspec-check", action="append", default=None, metavar="ID",
                    help="only these check ids")
    group.addoption("--fluidspec-min-coverage", type=float, default=100.0, metavar="PERCENT",
                    help="percentage of its claimed clauses each implementation must have "
                         "exercised; below it the session exits 3 (default 100)")
    group.addoption("--fluidspec-claim", default=None, metavar="FILE",
                    help="JSON claim file replacing what the implementation's hello claims")
    group.addoption("--fluidspec-known-failures", default=None, metavar="FILE",
                    help="the implementation's known-failures file")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "fluidspec_check" not in metafunc.fixturenames:
        return
    from fluidspec.conformance._discovery import builtin_names
    from fluidspec.conformance.checks import all_checks as checks

    impls = metafunc.config.getoption("fluidspec_impl") or builtin_names()
    only = metafunc.config.getoption("fluidspec_check")
    chosen = [c for c in checks() if only is None or c.id in only]
    params = [(impl, c.id) for impl in impls for c in chosen]
    metafunc.parametrize(("fluidspec_impl", "fluidspec_check"), params,
                         ids=[f"{impl}::{cid}" for impl, cid in params])


def _adapter(spec: str) -> Any:
    from fluidspec.conformance._discovery import resolve

    if spec not in _ADAPTERS:
        _ADAPTERS[spec] = resolve(spec)
    return _ADAPTERS[spec]


#: Every CheckResult of the session, folded into a verdict at its end.
_RESULTS: list[Any] = []
_HELLO: dict[str, Any] = {}
_CLAIMS: dict[str, Any] = {}


def _claim_file(config: pytest.Config | None) -> dict[str, Any] | None:
    import json
    from pathlib import Path

    path = config.getoption("fluidspec_claim") if config is not None else None
    return None if path is None else json.loads(Path(path).read_text(encoding="utf-8"))


def run_one(impl_spec: str, check_id: str, profile: str = "ci",
            config: pytest.Config | None = None) -> None:
    """Run one check the pytest way: pass, ``pytest.skip``, ``pytest.xfail`` or ``pytest.fail``.

    An implementation that cannot be started fails (it verified nothing); a check outside its
    claim is skipped as "not claimed"."""
    from pathlib import Path

    from fluidspec.conformance._adapter import AdapterUnavailable
    from fluidspec.conformance._known_failures import KNOWN_FAILURES_DIR, load_known_failures
    from fluidspec.conformance._report import CheckResult
    from fluidspec.conformance._runner import claim_of, run_check
    from fluidspec.conformance.checks import all_checks as checks

    chk = next(c for c in checks() if c.id == check_id)
    impl = _adapter(impl_spec)
    try:
        info = impl.hello()
    except AdapterUnavailable as exc:
        _HELLO[impl.name] = {"unavailable": str(exc)}
        _RESULTS.append(CheckResult(chk.id, impl.name, "skip", chk.clauses,
                                    message=f"unavailable: {exc}"))
        pytest.fail(f"{impl_spec} could not be started or reached: {exc}", pytrace=False)
    _HELLO[impl.name] = info
    claim = _CLAIMS.setdefault(impl.name, claim_of(impl, impl_spec, info, _claim_file(config)))
    res = run_check(chk, impl, _adapter("reference"), claim, profile, impl_spec)
    _RESULTS.append(res)
    if res.status in ("skip", "unclaimed"):
        pytest.skip(res.message)
    if res.status == "unreached":
        pytest.fail(f"{check_id} verified nothing: {res.message}", pytrace=False)
    if res.status == "fail":
        from fluidspec import spec

        known_file = config.getoption("fluidspec_known_failures") if config is not None else None
        known = load_known_failures(impl.name, KNOWN_FAILURES_DIR, info,
                                    Path(known_file) if known_file else None)
        tier = spec.clause(res.clause).tier if res.clause in {c.id for c in spec.clauses()} else "MUST"
        text = f"{res.clause}: {res.message}\n{res.example}\nreproduce: {res.reproduce}"
        if res.clause in known and tier != "MUST":
            pytest.xfail(f"known failure: {known[res.clause]} — {text}")
        pytest.fail(text, pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Close the servers; then the coverage rule: exit 3 when an implementation had fewer of its
    claimed clauses exercised than required (only when nothing failed: a failure says more)."""
    for adapter in _ADAPTERS.values():
        adapter.close()
    _ADAPTERS.clear()
    if not _RESULTS:
        return
    from fluidspec.conformance._report import EXIT_INCOMPLETE, SuiteReport

    impls = list(dict.fromkeys(r.impl for r in _RESULTS))
    report = SuiteReport(impls, "", dict(_HELLO), list(_RESULTS), {}, claims=dict(_CLAIMS),
                         min_coverage=session.config.getoption("fluidspec_min_coverage"))
    _RESULTS.clear()
    code, reason = report.verdict()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"fluidspec conformance: {reason}")
    if code == EXIT_INCOMPLETE and exitstatus == 0:
        session.exitstatus = EXIT_INCOMPLETE
