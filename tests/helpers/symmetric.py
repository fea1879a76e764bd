"""A symmetric assertion for the codec, in the style of construct's ``common()``.

``common(sample, data)`` checks in one call that

* encoding ``sample`` gives exactly ``data`` (build),
* decoding ``data`` gives ``sample`` back, bit for bit (parse),
* the header read from ``data`` says the record is ``len(data)`` bytes long, and the
  SelectedRows-sniffing reader (FMT-SNIFF-001) finds exactly that one record (size).

Arrays are compared by dtype, shape and raw bytes, so NaN payloads, ``-0.0`` and bfloat16
bit patterns count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fluidspec.reference import codec


@dataclass
class TensorSample:
    """A dense tensor as a writer holds it.

    ``decoded`` is the array a reader must return when it differs from ``array`` (numpy uint16
    is written as BF16 and comes back as bfloat16, FMT-DTYPE-003); ``data_type`` asks the
    writer for a specific code (true UINT16, 36).
    """

    array: Any
    lod: list[list[int]] = field(default_factory=list)
    decoded: Any = None
    data_type: int | None = None


@dataclass
class SelectedRowsSample:
    """A SelectedRows value as a writer holds it."""

    array: Any
    rows: list[int]
    height: int


def assert_same_array(found: np.ndarray, expected: Any) -> None:
    """Equal dtype, shape and bytes: stricter than ``array_equal`` (NaNs, -0.0, bit patterns)."""
    expected = np.asarray(expected)
    assert found.dtype == expected.dtype, (found.dtype, expected.dtype)
    assert found.shape == expected.shape, (found.shape, expected.shape)
    assert found.tobytes() == expected.tobytes()


def encode(sample: TensorSample | SelectedRowsSample) -> bytes:
    if isinstance(sample, SelectedRowsSample):
        return codec.encode_selected_rows(sample.array, sample.rows, sample.height)
    return codec.encode_lod_tensor(sample.array, sample.lod, data_type=sample.data_type)


def common(sample: TensorSample | SelectedRowsSample, data: bytes) -> None:
    """value -> exact bytes -> value, and the size the header implies (see module docstring)."""
    built = encode(sample)
    assert built == data, f"built {built.hex(' ')}\nwanted {data.hex(' ')}"

    if isinstance(sample, SelectedRowsSample):
        decoded = codec.decode_selected_rows(data)
        assert_same_array(decoded.array, sample.array)
        assert decoded.rows == list(sample.rows)
        assert decoded.height == sample.height
        header = codec.read_selected_rows_header(data)
        kind = "SelectedRows"
    else:
        tensor = codec.decode_tensor_file(data)
        expected = sample.array if sample.decoded is None else sample.decoded
        assert_same_array(tensor.array, expected)
        assert tensor.lod == [list(level) for level in sample.lod]
        header = codec.read_lod_tensor_header(data)
        kind = "LoDTensor"

    assert header.end == len(data)
    sniffed = codec.read_records(data)
    assert [(h.kind, h.offset, h.end) for h in sniffed] == [(kind, 0, len(data))]
