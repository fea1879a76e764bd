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


def run_one(impl_spec: str, check_id: str, profile: str = "ci") -> None:
    """Run one check the pytest way: pass, ``pytest.skip``, ``pytest.xfail`` or ``pytest.fail``."""
    from fluidspec.conformance._adapter import AdapterUnavailable
    from fluidspec.conformance._known_failures import load_known_failures
    from fluidspec.conformance._runner import run_check
    from fluidspec.conformance.checks import all_checks as checks

    chk = next(c for c in checks() if c.id == check_id)
    impl = _adapter(impl_spec)
    try:
        info = impl.hello()
        apis = frozenset(info.get("apis") or [])
    except AdapterUnavailable as exc:
        pytest.skip(f"{impl_spec} unavailable: {exc}")
    res = run_check(chk, impl, _adapter("reference"), apis, profile, impl_spec)
    if res.status == "skip":
        pytest.skip(res.message)
    if res.status == "fail":
        from fluidspec import spec

        known = load_known_failures(impl.name, hello=info)
        tier = spec.clause(res.clause).tier if res.clause in {c.id for c in spec.clauses()} else "MUST"
        text = f"{res.clause}: {res.message}\n{res.example}\nreproduce: {res.reproduce}"
        if res.clause in known and tier != "MUST":
            pytest.xfail(f"known failure: {known[res.clause]} — {text}")
        pytest.fail(text, pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for adapter in _ADAPTERS.values():
        adapter.close()
    _ADAPTERS.clear()
