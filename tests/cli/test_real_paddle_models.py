"""``inspect`` and ``diff`` on files real Paddle wrote: jit.save, save_inference_model (PIR
``.json`` in Paddle 3), paddle.save.  Paddle 2.6.2 and 3.3.1 run in their own virtual
environments (``.venv-paddle``, ``.venv-paddle3``); tests/helpers/paddle_models.py writes the
files, and the tests skip when an environment is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.paddle

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "tests/helpers/paddle_models.py"
INTERPRETERS = {"2.6.2": ROOT / ".venv-paddle/bin/python", "3.3.1": ROOT / ".venv-paddle3/bin/python"}
# static.nn.fc(name="fc") names its weight and bias fc.w_0 and fc.b_0 (Paddle 2.6.2 and 3.3.1).
INFER_NAMES = ["fc.b_0", "fc.w_0"]


@pytest.fixture(scope="module", params=sorted(INTERPRETERS))
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[str, Path]:
    interpreter = INTERPRETERS[request.param]
    if not interpreter.exists():
        pytest.skip(f"no Paddle {request.param} environment at {interpreter}")
    out = tmp_path_factory.mktemp(f"paddle-{request.param}")
    result = subprocess.run([str(interpreter), str(GENERATOR), str(out)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return request.param, out


def fluidspec(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fluidspec", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def _named_records(params: Path) -> list[tuple[str, list[int]]]:
    result = fluidspec("inspect", "--json", params)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return [(r["name"], r["dims"]) for r in map(json.loads, result.stdout.splitlines())]


def test_jit_save_params_are_named_from_the_program_beside_them(written: tuple[str, Path]) -> None:
    version, out = written
    names = json.loads((out / "names.json").read_text())
    program = out / "jit" / ("model.pdmodel" if version == "2.6.2" else "model.json")
    assert program.is_file()
    # Linear(4, 3): bias [3], weight [4, 3]; sorted names put the bias first.
    assert _named_records(out / "jit/model.pdiparams") == [(names[0], [3]), (names[1], [4, 3])]


def test_save_inference_model_params_are_named(written: tuple[str, Path]) -> None:
    version, out = written
    # Paddle 3.3.1 writes a PIR program (model.json), Paddle 2.6.2 a ProgramDesc.
    assert (out / "infer/model.json").is_file() == (version != "2.6.2")
    assert [n for n, _ in _named_records(out / "infer/model.pdiparams")] == INFER_NAMES


def test_program_files_are_summarised(written: tuple[str, Path]) -> None:
    version, out = written
    names = json.loads((out / "names.json").read_text())
    if version == "2.6.2":
        result = fluidspec("inspect", out / "jit/model.pdmodel")
        assert result.returncode == 0 and "ProgramDesc" in result.stdout
        assert "version 2006002 (= 2.6.2)" in result.stdout
        return
    result = fluidspec("inspect", "--json", out / "jit/model.json")
    assert result.returncode == 0, result.stderr
    [view] = map(json.loads, result.stdout.splitlines())
    assert view["kind"] == "PIRProgram"
    assert [p["name"] for p in view["parameters"]] == names
    assert [i["name"] for i in view["inputs"]] == ["x"] and len(view["outputs"]) == 1
    assert "parameters (2): " in fluidspec("inspect", out / "jit/model.json").stdout


def test_paddle_save_pickle_is_named(written: tuple[str, Path]) -> None:
    _, out = written
    result = fluidspec("inspect", out / "state.pdparams")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "NOT_A_TENSOR_FILE: this is a paddle.save pickle" in line and "paddle.load" in line


def test_a_jit_save_directory_inspects_cleanly(written: tuple[str, Path]) -> None:
    version, out = written
    result = fluidspec("inspect", out / "jit")
    assert result.returncode == 0, result.stderr
    if version == "2.6.2":
        assert "model.pdiparams.info: paddle.jit.save's pickled parameter attributes" in result.stdout
        info = fluidspec("inspect", out / "jit/model.pdiparams.info")
        assert info.returncode == 1 and "the parameters are in model.pdiparams" in info.stderr


def test_diff_of_real_saves(written: tuple[str, Path], tmp_path: Path) -> None:
    _, out = written
    copy = shutil.copytree(out / "jit", tmp_path / "jit")
    same = fluidspec("diff", out / "jit", copy)
    assert same.returncode == 0 and same.stdout.rstrip().endswith("diff: identical")
    other = fluidspec("diff", out / "jit", out / "infer")
    assert other.returncode == 1, other.stderr
    # Different variable names, and programs that differ in their variables.
    assert "removed (only in A): " in other.stdout and "program: " in other.stdout
    assert other.stdout.rstrip().splitlines()[-1].startswith("diff: ")
