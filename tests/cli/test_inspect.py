"""``fluidspec inspect`` (fluidspec/_inspect.py, fluidspec/_cmd_inspect.py), mostly as a subprocess.

Clauses: FMT-SNIFF-001 (kind detection), FMT-SAFE-001..004 and ERR-001..003 (clean errors),
FMT-REC-*, FMT-SR-001 (the fields reported).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from paddle_dumps import PADDLE_DUMPS, PADDLE_SELECTED_ROWS, paddle_desc

from fluidspec import spec
from fluidspec._inspect import inspect_path, run
from fluidspec.reference import codec

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "conformance" / "vectors" / "paddle-2.6.2"

KEYS = ["path", "offset", "kind", "version", "lod", "tensor_version", "desc_size", "data_type",
        "data_type_name", "dims", "data_offset", "data_nbytes"]
SR_KEYS = [*KEYS, "rows", "height"]
ERROR_LINE = re.compile(r"^error: (?P<id>[A-Z_]+): ")



def json_lines(text: str) -> list:
    """``inspect --json`` output: JSON Lines, one object per line."""
    return [json.loads(line) for line in text.splitlines()]

def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fluidspec", "inspect", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


def in_process(path: Path, as_json: bool = True) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run(str(path), as_json, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def assert_clean_failure(status: int, out: str, err: str) -> str:
    """Non-zero exit, a taxonomy id and message, no traceback (ERR-001); returns the id."""
    assert status != 0
    assert "Traceback" not in out + err
    match = ERROR_LINE.match(err)
    assert match, err
    assert match["id"] in spec.errors.ERROR_CLASSES
    return match["id"]


# --------------------------------------------------------------------------------------------
# Fields, on the bytes real Paddle 2.6.2 wrote (tests/helpers/paddle_dumps.py): every number below
# is read off those dumps, not computed by the code under test.


@pytest.fixture
def paddle_files(tmp_path):
    files = {}
    for name, (_, data) in PADDLE_DUMPS.items():
        files[name] = tmp_path / re.sub(r"[^A-Za-z0-9]+", "_", name)
        files[name].write_bytes(data)
    files["selected rows"] = tmp_path / "sr"
    files["selected rows"].write_bytes(PADDLE_SELECTED_ROWS[1])
    return files


def test_json_fields_of_paddle_dumps(paddle_files):
    result = cli("--json", str(paddle_files["float32[5,1] lod [[0,2,5]]"]))
    assert result.returncode == 0, result.stderr
    [record] = json_lines(result.stdout)
    assert list(record) == KEYS
    assert record == {
        "path": str(paddle_files["float32[5,1] lod [[0,2,5]]"]), "offset": 0, "kind": "LoDTensor",
        "version": 0, "lod": [[0, 2, 5]], "tensor_version": 0, "desc_size": 6, "data_type": 5,
        "data_type_name": "FP32", "dims": [5, 1], "data_offset": 58, "data_nbytes": 20,
    }


def test_json_fields_of_paddle_selected_rows(paddle_files):
    """FMT-SNIFF-001: detected without being told; rows and height reported."""
    result = cli("--json", str(paddle_files["selected rows"]))
    assert result.returncode == 0, result.stderr
    [record] = json_lines(result.stdout)
    assert list(record) == SR_KEYS
    assert {k: record[k] for k in SR_KEYS[1:]} == {
        "offset": 0, "kind": "SelectedRows", "version": 0, "lod": [], "tensor_version": 0,
        "desc_size": 6, "data_type": 5, "data_type_name": "FP32", "dims": [3, 2],
        "data_offset": 58, "data_nbytes": 24, "rows": [1, 7, 3], "height": 10,
    }


@pytest.mark.parametrize(
    ("name", "desc_size", "code", "type_name", "dims", "data_offset", "nbytes"),
    [("float32[2,3]", 6, 5, "FP32", [2, 3], 26, 24), ("int64[0]", 4, 3, "INT64", [0], 24, 0),
     ("float32 0-d", 2, 5, "FP32", [], 22, 4), ("bfloat16[2]", 4, 22, "BF16", [2], 24, 4),
     ("bool[3]", 4, 0, "BOOL", [3], 24, 3), ("complex64[1]", 4, 23, "COMPLEX64", [1], 24, 8)],
)
def test_json_fields_of_more_paddle_dumps(paddle_files, name, desc_size, code, type_name, dims,
                                          data_offset, nbytes):
    status, out, err = in_process(paddle_files[name])
    assert status == 0, err
    [record] = json_lines(out)
    assert (record["desc_size"], record["data_type"], record["data_type_name"], record["dims"],
            record["data_offset"], record["data_nbytes"]) == (desc_size, code, type_name, dims,
                                                               data_offset, nbytes)


def test_combined_file_records_are_found_by_parsing(tmp_path):
    names = sorted(PADDLE_DUMPS)
    stream = b"".join(PADDLE_DUMPS[n][1] for n in names)
    (tmp_path / "combined").write_bytes(stream)
    status, out, err = in_process(tmp_path / "combined")
    assert status == 0, err
    records = json_lines(out)
    offsets = [0]
    for n in names[:-1]:
        offsets.append(offsets[-1] + len(PADDLE_DUMPS[n][1]))
    assert [r["offset"] for r in records] == offsets
    assert records[-1]["data_offset"] + records[-1]["data_nbytes"] == len(stream)


def test_directory_lists_every_file_in_sorted_order(tmp_path):
    (tmp_path / "b").write_bytes(PADDLE_DUMPS["int8[2]"][1])
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a").write_bytes(PADDLE_DUMPS["uint8[2]"][1])
    (tmp_path / "a").write_bytes(PADDLE_SELECTED_ROWS[1])
    records, errors = inspect_path(tmp_path)
    assert errors == []
    assert [(Path(r["path"]).relative_to(tmp_path).as_posix(), r["kind"]) for r in records] == [
        ("a", "SelectedRows"), ("b", "LoDTensor"), ("sub/a", "LoDTensor")]


# --------------------------------------------------------------------------------------------
# Real Paddle 2.6.2 files from conformance/vectors (written by its generator; read-only here)


def _manifest_tensor_files() -> list[tuple[str, str, list[dict]]]:
    manifest = json.loads((VECTORS / "manifest.json").read_text())
    out = []
    for vector in manifest["vectors"]:
        if vector["kind"] in {"tensor_file", "selected_rows_file", "combined", "memory"}:
            [file] = vector["files"]
            out.append((vector["id"], file, vector["expected"]["vars"]))
    return out


PADDLE_NAMES = {"bool": "BOOL", "int16": "INT16", "int32": "INT32", "int64": "INT64",
                "float16": "FP16", "float32": "FP32", "float64": "FP64", "uint8": "UINT8",
                "int8": "INT8", "bfloat16": "BF16", "complex64": "COMPLEX64",
                "complex128": "COMPLEX128"}


@pytest.mark.skipif(not VECTORS.exists(), reason="conformance vectors not present")
@pytest.mark.parametrize(("vector", "file", "variables"), _manifest_tensor_files(),
                         ids=[v[0] for v in _manifest_tensor_files()] if VECTORS.exists() else None)
def test_json_matches_what_paddle_says_it_saved(vector, file, variables):
    """Every field of every record, against the manifest Paddle's generator wrote; re-encoding
    each decoded record gives the file's bytes back."""
    path = VECTORS / file
    data = path.read_bytes()
    status, out, err = in_process(path)
    assert status == 0, err
    records = json_lines(out)
    assert len(records) == len(variables)
    position = 0
    rebuilt = b""
    for record, var in zip(records, variables, strict=True):
        sr = "rows" in var
        assert list(record) == (SR_KEYS if sr else KEYS)
        assert record["kind"] == ("SelectedRows" if sr else "LoDTensor")
        assert record["offset"] == position and record["path"] == str(path)
        assert record["version"] == 0 and record["tensor_version"] == 0
        assert record["data_type_name"] == PADDLE_NAMES[var["dtype"]]
        assert record["data_type"] == int(spec.VarType[record["data_type_name"]])
        assert record["dims"] == var["shape"] and record["lod"] == var["lod"]
        assert record["desc_size"] == len(paddle_desc(record["data_type"], tuple(var["shape"])))
        itemsize = spec.element_type(record["data_type"]).size
        assert record["data_nbytes"] == int(np.prod(var["shape"], dtype=np.int64)) * itemsize
        if sr:
            assert (record["rows"], record["height"]) == (var["rows"], var["height"])
            header = 4 + 8 + 8 * len(var["rows"]) + 8 + 8
            decoded = codec.decode_selected_rows(data, position)
            rebuilt += codec.encode_selected_rows(decoded.array, decoded.rows, decoded.height)
        else:
            header = 4 + 8 + sum(8 + 8 * len(level) for level in var["lod"]) + 8
            tensor = codec.decode_lod_tensor(data, position)
            rebuilt += codec.encode_lod_tensor(tensor.array, tensor.lod)
        assert record["data_offset"] == position + header + record["desc_size"]
        position = record["data_offset"] + record["data_nbytes"]
    assert position == len(data)
    assert rebuilt == data


# --------------------------------------------------------------------------------------------
# Bad input: taxonomy id and message, no traceback, non-zero exit


def _truncation_subjects() -> list[tuple[str, bytes]]:
    subjects = [(name, data) for name, (_, data) in PADDLE_DUMPS.items()]
    subjects.append(("selected rows", PADDLE_SELECTED_ROWS[1]))
    if VECTORS.exists():
        for vector, file, _ in _manifest_tensor_files():
            subjects.append((vector, (VECTORS / file).read_bytes()))
    return subjects


@pytest.fixture
def scratch(tmp_path):
    """A directory for thousands of tiny writes: RAM-backed when the machine has one."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        with tempfile.TemporaryDirectory(dir=shm) as tmp:
            yield Path(tmp)
    else:
        yield tmp_path


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "human"])
def test_truncating_at_every_byte_gives_a_clean_error(scratch, as_json):
    """FMT-SAFE-001, ERR-001, in process for every cut of every Paddle-written file.

    A combined stream has no header and no count (FMT-COMB-001), so a cut exactly at a record
    boundary *is* a valid shorter stream: there inspect must report the records before the cut.
    """
    target = scratch / "cut"
    for name, data in _truncation_subjects():
        boundaries = {h.offset for h in codec.read_records(data)} - {0}
        for cut in range(len(data)):
            target.write_bytes(data[:cut])
            status, out, err = in_process(target, as_json)
            if cut in boundaries:
                assert status == 0 and err == ""
                if as_json:
                    assert json_lines(out)[-1]["data_offset"] + json_lines(out)[-1][
                        "data_nbytes"] == cut
                continue
            error_id = assert_clean_failure(status, out, err)
            if not name.startswith("selected"):
                assert error_id == "TRUNCATED", (name, cut, err)
            before = sorted(b for b in boundaries if b < cut)  # whole records before the cut
            if as_json:
                assert [r["offset"] for r in json_lines(out)] == [0, *before][:len(before)]
            elif before:
                assert f"{len(before)} good record(s), then the error at offset " in out


@pytest.mark.parametrize("cut", [0, 11, 21, 49])  # version, LoD, desc, data
def test_truncated_file_through_the_real_command(tmp_path, cut):
    target = tmp_path / "cut"
    target.write_bytes(PADDLE_DUMPS["float32[2,3]"][1][:cut])
    for args in (("--json", str(target)), (str(target),)):
        result = cli(*args)
        assert assert_clean_failure(result.returncode, result.stdout, result.stderr) == "TRUNCATED"
        assert f"file '{target}'" in result.stderr


def test_git_lfs_pointer_through_the_real_command(tmp_path):
    """FMT-SAFE-004."""
    target = tmp_path / "w"
    target.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 4\n")
    result = cli(str(target))
    assert assert_clean_failure(result.returncode, result.stdout, result.stderr) == \
        "NOT_A_TENSOR_FILE"


def test_missing_path(tmp_path):
    result = cli("--json", str(tmp_path / "nope"))
    assert assert_clean_failure(result.returncode, result.stdout, result.stderr) == "MISSING_FILE"


def test_records_before_a_bad_one_are_still_reported(tmp_path):
    """ERR-003: a combined file that breaks at its third record shows the first two."""
    names = ["int8[2]", "uint8[2]", "float16[2]"]
    stream = b"".join(PADDLE_DUMPS[n][1] for n in names)
    broken = stream[:52] + b"\x07" + stream[53:]  # the version of the record at offset 52
    (tmp_path / "c").write_bytes(broken)
    status, out, err = in_process(tmp_path / "c")
    assert assert_clean_failure(status, out, err) == "BAD_VERSION"
    assert [r["offset"] for r in json_lines(out)] == [0, 26]
    assert "offset 52" in err
    status, out, err = in_process(tmp_path / "c", as_json=False)
    assert "2 good record(s), then the error at offset 52" in out and "record at 26" in out


def test_one_bad_file_in_a_directory_fails_the_run_but_the_rest_is_reported(tmp_path):
    (tmp_path / "good").write_bytes(PADDLE_DUMPS["int8[2]"][1])
    (tmp_path / "trailing").write_bytes(PADDLE_DUMPS["int8[2]"][1] + b"\x01")
    status, out, err = in_process(tmp_path)
    assert assert_clean_failure(status, out, err) == "TRUNCATED"  # a 1-byte "next record"
    # Both records are shown; the error says which file went bad and where.
    assert [Path(r["path"]).name for r in json_lines(out)] == ["good", "trailing"]
    assert f"file '{tmp_path / 'trailing'}', offset 26" in err


@pytest.mark.parametrize(
    ("data", "error_id"),
    [(b"\x01" + PADDLE_DUMPS["int8[2]"][1][1:], "BAD_VERSION"),
     (PADDLE_DUMPS["int8[2]"][1][:16] + b"\xff\xff\xff\xff", "BAD_TENSOR_DESC"),
     (PADDLE_DUMPS["int8[2]"][1][:20] + b"\x08\x07\x10\x02" + b"\x00\x00", "UNSUPPORTED_DTYPE")],
)
def test_other_errors_carry_their_taxonomy_id(tmp_path, data, error_id):
    (tmp_path / "f").write_bytes(data)
    assert assert_clean_failure(*in_process(tmp_path / "f")) == error_id


@pytest.mark.parametrize(
    ("data", "says"),
    [(pickle.dumps({"w": [1.0]}, protocol=2), "pickle"), (pickle.dumps([1], protocol=5), "pickle"),
     (b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'}", ".npy"), (b"PK\x03\x04" + b"\x00" * 30, "zip")],
    ids=["pickle-2", "pickle-5", "npy", "zip"],
)
def test_lookalike_files_get_a_hint_after_the_error(tmp_path, data, says):
    """ERR-003 line first, then what the bytes look like (users load paddle.save files)."""
    (tmp_path / "f").write_bytes(data)
    status, out, err = in_process(tmp_path / "f")
    assert assert_clean_failure(status, out, err) in {"BAD_VERSION", "TRUNCATED"}
    assert err.splitlines()[1].startswith("  hint: the file looks like") and says in err


# --------------------------------------------------------------------------------------------
# Human view


def test_human_view_annotates_every_header_field(paddle_files):
    result = cli(str(paddle_files["float32[5,1] lod [[0,2,5]]"]))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for expected in [
        "record at 0: LoDTensor FP32 [5, 1] lod [[0, 2, 5]], 20 data bytes at 58",
        "00000000  00 00 00 00", "LoD-tensor version = 0",
        "00000004  01 00 00 00 00 00 00 00", "LoD levels = 1",
        "0000000c  18 00 00 00 00 00 00 00", "level 0 byte size = 24",
        "level 0 offsets = [0, 2, 5]",
        "0000002c  00 00 00 00", "tensor version = 0",
        "00000030  06 00 00 00", "TensorDesc size = 6",
        "00000034  08 05 10 05 10 01", "TensorDesc: data_type 5 (FP32), dims [5, 1]",
        "0000003a  00 00 00 00 00 00 80 3f",
    ]:
        assert expected in text, expected


def test_human_view_of_selected_rows(paddle_files):
    status, out, err = in_process(paddle_files["selected rows"], as_json=False)
    assert status == 0, err
    for expected in ["SelectedRows FP32 [3, 2] rows [1, 7, 3] height 10",
                     "00000004  03 00 00 00 00 00 00 00", "row count = 3",
                     "00000024  0a 00 00 00 00 00 00 00", "height = 10",
                     "00000034  08 05 10 03 10 02"]:
        assert expected in out, expected


@pytest.mark.skipif(not VECTORS.exists(), reason="conformance vectors not present")
def test_human_view_of_every_paddle_vector():
    """Empty rows, zero-size data, 0-d, LoD, combined streams: all render, exit 0."""
    shown = ""
    for vector, file, variables in _manifest_tensor_files():
        status, out, err = in_process(VECTORS / file, as_json=False)
        assert status == 0, (vector, err)
        assert out.startswith(f"{VECTORS / file}: {len(variables)} record(s), "), vector
        shown += out
    assert "row count = 0" in shown and "dims []" in shown and "level 1 offsets" in shown


def test_human_view_shortens_long_lists(tmp_path):
    data = codec.encode_lod_tensor(np.zeros((100, 1), np.int8), [list(range(101))])
    (tmp_path / "long").write_bytes(data)
    status, out, _ = in_process(tmp_path / "long", as_json=False)
    assert status == 0 and "… (101 values)" in out and "99, 100" not in out


# --------------------------------------------------------------------------------------------
# Fast start


def test_inspect_does_not_import_numba_or_hypothesis(paddle_files):
    """Tools call inspect hundreds of times: it must not pay for numba."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "fluidspec", "inspect", "--json",
         str(paddle_files["float32[2,3]"])],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    modules = {line.split("|")[-1].strip()
               for line in result.stderr.splitlines() if line.startswith("import time:")}
    imported = {name.split(".")[0] for name in modules}
    # the log is what we think it is
    assert "json" in imported and "fluidspec.reference" in modules
    assert not imported & {"numba", "hypothesis", "llvmlite", "pytest"}

    probe = (
        "import sys; from fluidspec._cli import main; "
        f"status = main(['inspect', {str(paddle_files['float32[2,3]'])!r}]); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'hypothesis')); "
        "print('IMPORTED', bad); sys.exit(status)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "IMPORTED []" in result.stdout


# --------------------------------------------------------------------------------------------
# The main job (scripts/main.sh): `fluidspec sample DIR` then `fluidspec inspect DIR`


def test_sample_then_inspect(tmp_path):
    """FMT-COMB-001 (sorted names), FMT-SR-002 (SelectedRows in its own file), FMT-SNIFF-001."""
    made = subprocess.run([sys.executable, "-m", "fluidspec", "sample", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    result = cli("--json", str(tmp_path))
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    by_file: dict[str, list[dict]] = {}
    for r in records:
        by_file.setdefault(Path(r["path"]).relative_to(tmp_path).as_posix(), []).append(r)
    # sorted(["fc_0.w_0", "fc_0.b_0", "learning_rate_0", "emb", "empty"]):
    assert [r["dims"] for r in by_file["combined.pdparams"]] == [[5, 2], [0, 4], [3], [2, 3], []]
    assert by_file["combined.pdparams"][0]["lod"] == [[0, 2, 5]]
    assert [(r["kind"], r["rows"], r["height"]) for r in by_file["separate/sparse_table"]] == [
        ("SelectedRows", [1, 7, 3], 10)]
    assert sorted(by_file) == ["combined.pdparams", "separate/emb", "separate/empty",
                               "separate/fc_0.b_0", "separate/fc_0.w_0",
                               "separate/learning_rate_0", "separate/sparse_table"]
