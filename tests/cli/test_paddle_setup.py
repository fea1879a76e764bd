"""``fluidspec paddle setup|where`` and how ``--impl paddle-2.6.2`` finds its interpreter.

No test here installs paddle: the installer is replaced, and the interpreters are stand-ins.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fluidspec import _cli, _cmd_paddle
from fluidspec.conformance import _discovery, paddle_python, paddle_venv_dir, resolve


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user cache, no $FLUIDSPEC_PADDLE_PYTHON."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("FLUIDSPEC_PADDLE_PYTHON", raising=False)
    # The checkout's own Paddle venvs (scripts/_paddle_env.sh) would be found before the cache.
    monkeypatch.setattr(_discovery, "CHECKOUT_PADDLE_VENVS", {})
    return tmp_path / "cache"


def test_managed_venv_is_in_the_user_cache(cache: Path) -> None:
    if sys.platform != "linux":
        pytest.skip("XDG_CACHE_HOME is the Linux convention")
    assert paddle_venv_dir("2.6.2") == cache / "fluidspec" / "paddle-2.6.2"


def test_env_var_to_a_missing_interpreter_is_unavailable_and_says_so(cache, monkeypatch) -> None:
    monkeypatch.setenv("FLUIDSPEC_PADDLE_PYTHON", str(cache / "no-python"))
    python, why = paddle_python("2.6.2")
    assert python is None and "FLUIDSPEC_PADDLE_PYTHON" in why and "does not exist" in why
    adapter = resolve("paddle-2.6.2")
    assert adapter.why == why


def test_explicit_interpreter_comes_first(cache, monkeypatch, tmp_path) -> None:
    explicit, from_env = tmp_path / "explicit-python", tmp_path / "env-python"
    explicit.write_text("")
    from_env.write_text("")
    monkeypatch.setenv("FLUIDSPEC_PADDLE_PYTHON", str(from_env))
    assert paddle_python("2.6.2", str(explicit)) == (explicit, "--paddle-python")
    assert paddle_python("2.6.2") == (from_env, "$FLUIDSPEC_PADDLE_PYTHON")


def test_nothing_found_names_the_command_that_fixes_it(cache, monkeypatch) -> None:
    python, why = paddle_python("3.3.1")
    assert python is None and "fluidspec paddle setup 3.3.1" in why
    assert _cli.main(["paddle", "where", "3.3.1"]) == 1


def test_setup_creates_the_venv_installs_once_and_where_finds_it(cache, monkeypatch, capsys):
    installs: list[tuple[Path, str]] = []
    installed: dict[Path, str] = {}

    def fake_pip_install(python: Path, version: str) -> int:
        installs.append((python, version))
        installed[python] = version
        return 0

    monkeypatch.setattr(_cmd_paddle, "_pip_install", fake_pip_install)
    monkeypatch.setattr(_cmd_paddle, "_installed_version", lambda python: installed.get(python))

    assert _cli.main(["paddle", "setup", "3.3.1"]) == 0
    python = paddle_venv_dir("3.3.1") / "bin" / "python"
    assert python.is_file() and installs == [(python, "3.3.1")]
    # The venv is a real one: its interpreter runs.
    assert subprocess.run([str(python), "-c", "pass"]).returncode == 0
    # Idempotent: a second setup installs nothing.
    assert _cli.main(["paddle", "setup", "3.3.1"]) == 0
    assert installs == [(python, "3.3.1")]
    assert "already set up" in capsys.readouterr().out
    assert _cli.main(["paddle", "where", "3.3.1"]) == 0
    assert capsys.readouterr().out.strip() == str(python)


def test_failed_install_is_exit_1(cache, monkeypatch, capsys) -> None:
    monkeypatch.setattr(_cmd_paddle, "_pip_install", lambda python, version: 1)
    monkeypatch.setattr(_cmd_paddle, "_installed_version", lambda python: None)
    assert _cli.main(["paddle", "setup", "2.6.2"]) == 1
    assert "pip install paddlepaddle==2.6.2 failed" in capsys.readouterr().err
