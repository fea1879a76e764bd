"""The reference tensor codec (reference/_codec.py) against bytes real Paddle wrote, and itself.

Clauses: FMT-REC-001..007, FMT-DESC-001..005, FMT-DTYPE-001..006, FMT-LOD-001..004,
FMT-SR-001/003/004, FMT-COMB-001..003, FMT-SNIFF-001, FMT-SAFE-001..004, ERR-001, ERR-002.
"""

from __future__ import annotations

import struct
import tracemalloc

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paddle_dumps import (
    PADDLE_DUMPS,
    PADDLE_HEADERS,
    PADDLE_SELECTED_ROWS,
    h,
    paddle_desc,
)
from symmetric import SelectedRowsSample, TensorSample, assert_same_array, common

from fluidspec import spec
from fluidspec.reference import codec
from fluidspec.spec import errors


def test_transcribed_dumps_have_the_sizes_paddle_wrote():
    # The sizes of the files Paddle 2.6.2 wrote, measured with them: a check on transcription.
    stated = {"float32[2,3]": 50, "int64[0]": 24, "float32[5,1] lod [[0,2,5]]": 78,
              "float32 0-d": 26}
    assert {k: len(PADDLE_DUMPS[k][1]) for k in stated} == stated
    assert len(PADDLE_SELECTED_ROWS[1]) == 82
    sample, header = PADDLE_HEADERS["float32[5,2] lod [[0,2,3],[0,1,3,5]]"]
    assert len(header) + sample.array.nbytes == 138


@pytest.mark.parametrize("name", PADDLE_DUMPS)
def test_paddle_dump_is_symmetric(name):
    """FMT-REC-001..007, FMT-DESC-001, FMT-DTYPE-001/003: Paddle's bytes, exactly."""
    sample, data = PADDLE_DUMPS[name]
    common(sample, data)


@pytest.mark.parametrize("name", PADDLE_HEADERS)
def test_paddle_header_is_symmetric(name):
    """FMT-REC-002, FMT-DESC-001 (multi-byte varint dim 130, rank 8), FMT-LOD-001."""
    sample, header = PADDLE_HEADERS[name]
    data = header + np.asarray(sample.array).tobytes()
    common(sample, data)


def test_paddle_selected_rows_is_symmetric():
    """FMT-SR-001: the 82 bytes Paddle 2.6.2 wrote (format.md's SelectedRows example)."""
    common(*PADDLE_SELECTED_ROWS)


def test_paddle_dumps_concatenate_into_a_combined_stream():
    """FMT-COMB-001: a combined stream is the records back to back; decoding finds each one."""
    names = sorted(PADDLE_DUMPS)
    stream = b"".join(PADDLE_DUMPS[n][1] for n in names)
    decoded = codec.decode_combined(stream, names=names)
    for name, tensor in zip(names, decoded, strict=True):
        sample = PADDLE_DUMPS[name][0]
        assert_same_array(tensor.array, sample.array if sample.decoded is None else sample.decoded)
    assert [hd.offset for hd in codec.read_records(stream)] == [t.header.offset for t in decoded]
    # One whole record more or fewer than expected (SEL-LOAD-004).
    with pytest.raises(errors.RecordCountMismatchError):
        codec.decode_combined(stream, count=len(names) - 1)
    with pytest.raises(errors.RecordCountMismatchError):
        codec.decode_combined(stream, count=len(names) + 1)
    with pytest.raises(errors.TrailingBytesError):  # FMT-COMB-002
        codec.decode_combined(stream + b"\0", count=len(names))


def test_symmetric_helper_notices_a_wrong_byte():
    """Meta-test: ``common`` is not a check that cannot fail."""
    sample, data = PADDLE_DUMPS["float32[2,3]"]
    wrong = bytearray(data)
    wrong[-1] ^= 1
    with pytest.raises(AssertionError):
        common(sample, bytes(wrong))
    with pytest.raises(AssertionError):
        common(TensorSample(sample.array.astype(np.float64)), data)


# --------------------------------------------------------------------------------------------
# Properties: every element type, every shape class, every valid LoD.


@st.composite
def shapes(draw: st.DrawFn) -> tuple[int, ...]:
    """0-d, zero-size, rank up to 8, and at most one dim >= 128 (keeps arrays small)."""
    rank = draw(st.integers(0, 8))
    dims = draw(st.lists(st.integers(0, 2), min_size=rank, max_size=rank))
    if rank and draw(st.booleans()):
        dims[draw(st.integers(0, rank - 1))] = draw(st.integers(128, 200))
    return tuple(dims)


@st.composite
def arrays(draw: st.DrawFn, code: int, shape: tuple[int, ...]) -> np.ndarray:
    """Arbitrary bit patterns (NaN payloads, subnormals, -0.0) of element type ``code``."""
    row = spec.element_type(code)
    numel = int(np.prod(shape, dtype=np.int64))
    raw = draw(st.binary(min_size=numel * row.size, max_size=numel * row.size))
    if code == spec.VarType.BOOL:
        return (np.frombuffer(raw, dtype=np.uint8) & 1).astype(np.bool_).reshape(shape)
    return np.frombuffer(raw, dtype=row.dtype).reshape(shape).copy()


@st.composite
def lods(draw: st.DrawFn, rows: int) -> list[list[int]]:
    """A LoD that is valid for ``rows`` rows (FMT-LOD-002), built innermost level first."""
    levels = draw(st.integers(0, 3))
    lod: list[list[int]] = []
    end = rows
    for _ in range(levels):
        cuts = draw(st.lists(st.integers(0, end), max_size=5))
        level = [0, *sorted(cuts), end]
        lod.insert(0, level)
        end = len(level) - 1
    return lod


@st.composite
def tensor_samples(draw: st.DrawFn) -> TensorSample:
    code = draw(st.sampled_from(sorted(spec.ELEMENT_TYPES)))
    shape = draw(shapes())
    array = draw(arrays(code, shape))
    lod = draw(lods(shape[0])) if shape else []
    if code == spec.VarType.UINT16:  # only written on request (FMT-DTYPE-003)
        return TensorSample(array, lod, data_type=code)
    return TensorSample(array, lod)


def expected_record(sample: TensorSample) -> bytes:
    """The record FMT-REC-001..005 describe, assembled by the test, not by the codec."""
    array = np.asarray(sample.array)
    code = sample.data_type if sample.data_type is not None else spec.element_type_for_dtype(
        array.dtype).code
    parts = [struct.pack("<IQ", 0, len(sample.lod))]
    for level in sample.lod:
        parts.append(struct.pack(f"<Q{len(level)}Q", 8 * len(level), *level))
    desc = paddle_desc(code, array.shape)
    parts += [struct.pack("<Ii", 0, len(desc)), desc, array.astype(array.dtype.newbyteorder("<"))
              .tobytes()]
    return b"".join(parts)


@given(tensor_samples())
def test_every_element_type_shape_and_lod_round_trips(sample):
    """FMT-REC-001..007, FMT-DESC-001, FMT-DTYPE-001/002/004, FMT-LOD-001/002."""
    data = expected_record(sample)
    common(sample, data)
    lod_bytes = sum(8 + 8 * len(level) for level in sample.lod)
    numel_bytes = np.asarray(sample.array).nbytes
    header = codec.read_lod_tensor_header(data)
    assert len(data) == 20 + lod_bytes + header.desc_size + numel_bytes  # format.md §1.1 size


@given(tensor_samples())
def test_decoded_record_re_encodes_to_the_same_bytes(sample):
    """A decoded record carries everything needed to write it again (FMT-REC-006)."""
    data = codec.encode_lod_tensor(sample.array, sample.lod, data_type=sample.data_type)
    tensor = codec.decode_tensor_file(data)
    assert codec.encode_lod_tensor(tensor.array, tensor.lod,
                                   data_type=tensor.header.data_type) == data


@given(st.lists(tensor_samples(), max_size=4))
def test_combined_stream_round_trips(samples):
    """FMT-COMB-001/002: records back to back; with the right count nothing is left over."""
    stream = b"".join(expected_record(sample) for sample in samples)
    decoded = codec.decode_combined(stream, count=len(samples))
    for sample, tensor in zip(samples, decoded, strict=True):
        assert_same_array(tensor.array, sample.array)
        assert tensor.lod == sample.lod
    if samples:
        assert [h.end for h in codec.read_records(stream)] == [t.header.end for t in decoded]


@given(st.data())
def test_selected_rows_round_trip(data):
    """FMT-SR-001 for every element type; row ids and height are i64."""
    code = data.draw(st.sampled_from(sorted(set(spec.ELEMENT_TYPES) - {spec.VarType.UINT16})))
    shape = data.draw(shapes())
    array = data.draw(arrays(code, shape))
    rows = data.draw(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=6))
    height = data.draw(st.integers(-(2**63), 2**63 - 1))
    desc = paddle_desc(code, shape)
    expected = (struct.pack(f"<IQ{len(rows)}qq", 0, len(rows), *rows, height)
                + struct.pack("<Ii", 0, len(desc)) + desc + array.tobytes())
    common(SelectedRowsSample(array, rows, height), expected)


def decode_one_of_combined(data: bytes) -> list[codec.DecodedTensor]:
    return codec.decode_combined(data, count=1)


@given(tensor_samples())
def test_every_strict_prefix_of_a_record_is_truncated(sample):
    """FMT-SAFE-001: cut anywhere before the end, the only answer is TRUNCATED."""
    data = codec.encode_lod_tensor(sample.array, sample.lod, data_type=sample.data_type)
    cuts = range(len(data)) if len(data) <= 600 else [*range(300), *range(len(data) - 300,
                                                                          len(data))]
    for cut in cuts:
        # An empty stream holds no record at all: a count mismatch for a combined reader
        # (SEL-LOAD-004), so the combined reader is judged on non-empty prefixes.
        readers = (codec.decode_tensor_file, codec.read_records, decode_one_of_combined)
        for read in readers if cut else readers[:2]:
            with pytest.raises(errors.TruncatedError) as info:
                read(data[:cut])
            assert info.value.offset is not None and info.value.offset <= cut


@given(st.data())
def test_every_strict_prefix_of_a_selected_rows_record_is_truncated(data):
    """FMT-SAFE-001 for SelectedRows (read as SelectedRows; sniffing is FMT-SNIFF-001's)."""
    code = data.draw(st.sampled_from(sorted(set(spec.ELEMENT_TYPES) - {spec.VarType.UINT16})))
    array = data.draw(arrays(code, data.draw(shapes().filter(lambda s: np.prod(s) < 64))))
    rows = data.draw(st.lists(st.integers(0, 100), max_size=4))
    record = codec.encode_selected_rows(array, rows, 100)
    for cut in range(len(record)):
        with pytest.raises(errors.TruncatedError):
            codec.decode_selected_rows(record[:cut])
        with pytest.raises(errors.FluidSpecError):
            codec.read_records(record[:cut])


# --------------------------------------------------------------------------------------------
# Element-type rules


def test_numpy_uint16_is_written_as_bf16_with_its_bits():
    """FMT-DTYPE-003: uint16 -> code 22, same bits; code 22 decodes to bfloat16."""
    bits = np.array([0x0000, 0x3F80, 0x7FC1, 0xFFFF], dtype=np.uint16)
    data = codec.encode_lod_tensor(bits)
    header = codec.read_lod_tensor_header(data)
    assert header.data_type == 22 and header.data_type_name == "BF16"
    decoded = codec.decode_tensor_file(data).array
    assert decoded.dtype == ml_dtypes.bfloat16
    assert decoded.view(np.uint16).tolist() == bits.tolist()


def test_true_uint16_is_written_only_on_request_and_decodes_to_uint16():
    """FMT-DTYPE-003/004: code 36 is a 3.x type; it reads back as numpy uint16."""
    bits = np.array([1, 65535], dtype=np.uint16)
    data = codec.encode_lod_tensor(bits, data_type=36)
    assert data[20:24] == b"\x08\x24\x10\x02"  # 36 = 0x24
    assert_same_array(codec.decode_tensor_file(data).array, bits)


@pytest.mark.parametrize(
    ("dtype", "code"),
    [(ml_dtypes.float8_e4m3fn, 32), (ml_dtypes.float8_e5m2, 33), (np.uint32, 37),
     (np.uint64, 38)],
)
def test_paddle_3_types_are_written_from_their_own_dtypes(dtype, code):
    """FMT-DTYPE-004: fp8 and uint32/64 get codes 32, 33, 37, 38 and decode to the same dtype."""
    array = np.arange(4).astype(dtype)
    data = codec.encode_lod_tensor(array)
    assert data[20:24] == bytes([0x08, code, 0x10, 0x04])
    assert_same_array(codec.decode_tensor_file(data).array, array)


@pytest.mark.parametrize("dtype", [">f4", ">i8", ">c16", ">u2", ">f2", ">i2"])
def test_big_endian_input_is_written_little_endian(dtype):
    """FMT-REC-007: the bytes are those of the little-endian array."""
    array = np.array([[1, 2], [3, 258]], dtype=dtype)
    little = array.astype(np.dtype(dtype).newbyteorder("<"))
    assert codec.encode_lod_tensor(array) == codec.encode_lod_tensor(little)
    assert codec.encode_lod_tensor(array).endswith(little.tobytes())


def test_non_contiguous_and_fortran_arrays_are_written_in_c_order():
    """FMT-REC-005."""
    base = np.arange(12, dtype=np.int32).reshape(3, 4)
    for view in (base.T, base[:, ::2], np.asfortranarray(base)):
        data = codec.encode_lod_tensor(view)
        assert data.endswith(np.ascontiguousarray(view).tobytes())
        assert_same_array(codec.decode_tensor_file(data).array, np.ascontiguousarray(view))


def test_zero_d_keeps_shape_empty():
    """FMT-REC-005: 0-d writes dims [] (26 bytes for float32) and decodes to shape ()."""
    data = codec.encode_lod_tensor(np.float32(7.5))
    assert len(data) == 26
    assert codec.decode_tensor_file(data).array.shape == ()


def test_rank_64_is_read_and_rank_65_is_bad_tensor_desc():
    """FMT-DESC-005."""
    ok = codec.encode_lod_tensor(np.zeros((1,) * 64, dtype=np.int8))
    assert codec.decode_tensor_file(ok).array.shape == (1,) * 64
    desc = paddle_desc(21, (1,) * 65)
    bad = struct.pack("<IQIi", 0, 0, 0, len(desc)) + desc + b"\x00"
    with pytest.raises(errors.BadTensorDescError):
        codec.read_records(bad)


# --------------------------------------------------------------------------------------------
# Reader tolerance (FMT-DESC-002)


def record_with_desc(desc: bytes, data: bytes, lod: bytes = struct.pack("<Q", 0)) -> bytes:
    return struct.pack("<I", 0) + lod + struct.pack("<Ii", 0, len(desc)) + desc + data


SIX_FLOATS = np.arange(6, dtype=np.float32).tobytes()


@pytest.mark.parametrize(
    "desc",
    [
        pytest.param(h("08 05 12 02 02 03"), id="packed dims"),
        pytest.param(h("10 02 08 05 10 03"), id="data_type between dims"),
        pytest.param(h("10 02 10 03 08 05"), id="data_type last"),
        pytest.param(h("08 05 10 02 10 03 18 07"), id="unknown varint field"),
        pytest.param(h("08 05 22 03 61 62 63 10 02 10 03"), id="unknown bytes field"),
        pytest.param(h("08 06 08 05 10 02 10 03"), id="data_type twice, last wins"),
        pytest.param(h("08 85 00 10 82 00 10 03"), id="non-minimal varints"),
    ],
)
def test_reader_accepts_every_valid_protobuf_encoding_of_the_desc(desc):
    """FMT-DESC-002: readers accept what the protobuf runtime (and Paddle) accepts."""
    data = record_with_desc(desc, SIX_FLOATS)
    tensor = codec.decode_tensor_file(data)
    assert_same_array(tensor.array, np.arange(6, dtype=np.float32).reshape(2, 3))
    assert tensor.header.desc_size == len(desc)
    # Writers always use the canonical form (FMT-DESC-001).
    assert codec.encode_lod_tensor(tensor.array) == PADDLE_DUMPS["float32[2,3]"][1][:26] + SIX_FLOATS


# --------------------------------------------------------------------------------------------
# One test per taxonomy error the codec raises (ERR-001), each checking where it points (ERR-002)

GOOD = PADDLE_DUMPS["float32[2,3]"][1]  # 50 bytes, desc at 12..26, data at 26


def patched(data: bytes, at: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, at, value)
    return bytes(out)


def raises(cls: type[errors.FluidSpecError], data: bytes, offset: int, **kw) -> errors.FluidSpecError:
    with pytest.raises(cls) as info:
        codec.decode_tensor_file(data, path="w.bin", var="w", **kw)
    err = info.value
    assert (err.path, err.offset, err.var) == ("w.bin", offset, "w")
    assert err.expected is not None and err.found is not None
    assert str(err).startswith(f"{cls.id}: ") and "w.bin" in str(err)
    return err


def test_truncated_names_what_was_being_read():
    """FMT-SAFE-001, ERR-002."""
    err = raises(errors.TruncatedError, GOOD[:40], 26)
    assert "tensor data" in err.message and (err.expected, err.found) == ("24 bytes", "14 bytes")
    assert raises(errors.TruncatedError, GOOD[:2], 0).message.endswith("version (u32)")


@pytest.mark.parametrize(("at", "value"), [(0, 1), (0, 0xFFFFFFFF), (12, 1)])
def test_bad_version(at, value):
    """FMT-REC-001 (LoD-tensor version), FMT-REC-003 (tensor version)."""
    err = raises(errors.BadVersionError, patched(GOOD, at, "<I", value), at)
    assert err.found == value and err.expected == 0


def test_bad_selected_rows_version():
    data = patched(PADDLE_SELECTED_ROWS[1], 0, "<I", 2)
    with pytest.raises(errors.BadVersionError):
        codec.decode_selected_rows(data)


@pytest.mark.parametrize(
    ("desc", "why"),
    [
        (h("ff ff"), "not valid protobuf"),
        (h("10 02 10 03"), "no known data_type"),
        (h("08 63 10 02 10 03"), "no known data_type"),  # 99: not in the enum
        (h("08 10 10 06"), "no known data_type"),  # 16: a gap in the enum
        (h("08 20"), None),  # control: code 32 is known; 0-d, 1 data byte, 23 bytes left over
    ],
)
def test_bad_tensor_desc(desc, why):
    """FMT-DESC-003: bytes that are not a TensorDesc, no data_type, an enum value not defined."""
    data = record_with_desc(desc, b"\x00" * 24)
    if why is None:
        with pytest.raises(errors.TrailingBytesError):  # the desc itself is fine
            codec.decode_tensor_file(data)
        return
    err = raises(errors.BadTensorDescError, data, 20)
    assert why in err.message


def test_negative_desc_size_is_bad_tensor_desc_and_too_large_is_truncated():
    """FMT-DESC-004."""
    raises(errors.BadTensorDescError, patched(GOOD, 16, "<i", -1), 16)
    err = raises(errors.TruncatedError, patched(GOOD, 16, "<i", 2**31 - 1), 20)
    assert "TensorDesc" in err.message


@pytest.mark.parametrize("code", [7, 8, 17, 19, 25, 31])
def test_data_type_that_is_not_an_element_type_is_unsupported_dtype(code):
    """FMT-DTYPE-005."""
    desc = paddle_desc(code, (2, 3))
    err = raises(errors.UnsupportedDtypeError, record_with_desc(desc, SIX_FLOATS), 20)
    assert err.found == code


@pytest.mark.parametrize(
    "array",
    [np.array(["a"]), np.array([b"a"]), np.array([object()]), np.array(["2020-01-01"], "M8[D]"),
     np.zeros(2, dtype=[("a", "<i4")]), np.zeros(2, dtype=np.longdouble)],
    ids=["str", "bytes", "object", "datetime", "structured", "longdouble"],
)
def test_writer_refuses_dtypes_outside_the_table(array):
    """FMT-DTYPE-006."""
    if array.dtype == np.float64:  # platforms where longdouble is double
        pytest.skip("longdouble is float64 here")
    with pytest.raises(errors.UnsupportedDtypeError) as info:
        codec.encode_lod_tensor(array, var="v")
    assert info.value.var == "v" and str(array.dtype) in str(info.value)


@pytest.mark.parametrize("code", [7, 99, 4])  # not an element type / unknown / 2-byte for 4-byte
def test_writer_refuses_a_requested_data_type_it_cannot_honour(code):
    with pytest.raises(errors.UnsupportedDtypeError):
        codec.encode_lod_tensor(np.zeros(2, dtype=np.float32), data_type=code)


def test_lod_level_size_not_multiple_of_8_is_invalid_lod():
    """FMT-LOD-003 (Paddle 2.6.2 reads 12 bytes into one offset and reports [[4294967296]])."""
    lod = struct.pack("<QQ", 1, 12) + b"\x00" * 12
    err = raises(errors.InvalidLodError, record_with_desc(paddle_desc(5, (2, 3)), SIX_FLOATS, lod), 12)
    assert err.found == 12


@pytest.mark.parametrize("level", [[5, 1, 99], [0, 1], [0, 5, 3], [1, 5], [5], []])
def test_reader_validates_the_lod(level):
    """FMT-LOD-003: offsets that break FMT-LOD-002 (Paddle loads them as is)."""
    array = np.zeros((5, 1), dtype=np.float32)
    lod = struct.pack("<QQ", 1, 8 * len(level)) + struct.pack(f"<{len(level)}Q", *level)
    data = record_with_desc(paddle_desc(5, (5, 1)), array.tobytes(), lod)
    raises(errors.InvalidLodError, data, 4)


@pytest.mark.parametrize(
    "lod",
    [[[0, 1]], [[0, 5, 3]], [[1, 5]], [[5]], [[]], [[0, 1, 2], [0, 2, 4]], [["a", 5]], 5,
     [[0, 2.5, 5]]],
)
def test_writer_refuses_an_invalid_lod(lod):
    """FMT-LOD-002: the rejected examples of the clause (5 rows), and non-integers."""
    with pytest.raises(errors.InvalidLodError):
        codec.encode_lod_tensor(np.zeros((5, 1), dtype=np.float32), lod)


@pytest.mark.parametrize("lod", [[[0, 0, 5]], [[0, 5, 5]], [[0, 2], [0, 2, 5]]])
def test_writer_accepts_the_valid_lod_examples(lod):
    """FMT-LOD-002: the accepted examples of the clause."""
    common(TensorSample(np.zeros((5, 1), dtype=np.float32), lod),
           expected_record(TensorSample(np.zeros((5, 1), dtype=np.float32), lod)))


def test_zero_d_with_lod_is_invalid():
    with pytest.raises(errors.InvalidLodError):
        codec.encode_lod_tensor(np.float32(1), [[0, 1]])


@pytest.mark.parametrize(
    ("dims", "where"),
    [((-1, 6), "negative"), ((2**62, 4), "63 bits"), ((2**31,) * 3, "63 bits"),
     ((2**63 - 1, 2), "63 bits")],
)
def test_size_overflow(dims, where):
    """FMT-SAFE-002: negative dims, products past 2**63 (Paddle wraps [2^62,4] to 0 and loads)."""
    err = raises(errors.SizeOverflowError, record_with_desc(paddle_desc(5, dims), b""), 20)
    assert where in err.message


def test_a_zero_dim_does_not_excuse_an_overflowing_product():
    """FMT-SAFE-002: the bound is on the non-zero dims; FMT-REC-005: numel is 0 with a zero dim."""
    tensor = codec.decode_tensor_file(record_with_desc(paddle_desc(5, (0, 2**40)), b""))
    assert tensor.array.shape == (0, 2**40) and tensor.array.nbytes == 0
    raises(errors.SizeOverflowError, record_with_desc(paddle_desc(5, (0, 2**62)), b""), 20)


def test_trailing_bytes():
    """FMT-COMB-003 for a separate file, FMT-COMB-002 for a stream with a count."""
    err = raises(errors.TrailingBytesError, GOOD + b"\x00", 50)
    assert err.found == "1 more bytes"
    with pytest.raises(errors.TrailingBytesError):
        codec.decode_combined(GOOD + b"\0", count=1)
    with pytest.raises(errors.RecordCountMismatchError):  # a whole record is SEL-LOAD-004's
        codec.decode_combined(GOOD + GOOD, count=1)


LFS_POINTER = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    b"size 12345\n"
)


def test_git_lfs_pointer_is_not_a_tensor_file():
    """FMT-SAFE-004: the first u32 would read as version 0x73726576 ('vers')."""
    assert struct.unpack_from("<I", LFS_POINTER)[0] == 0x73726576
    err = raises(errors.NotATensorFileError, LFS_POINTER, 0)
    assert "git lfs" in err.message.lower()
    for read in (codec.read_records, codec.decode_combined, codec.decode_selected_rows):
        with pytest.raises(errors.NotATensorFileError):
            read(LFS_POINTER)


def test_a_pointer_where_a_record_starts_is_recognised():
    """FMT-SAFE-004 is checked at every record start, not only at offset 0."""
    with pytest.raises(errors.NotATensorFileError) as info:
        codec.read_records(GOOD + LFS_POINTER)
    assert info.value.offset == len(GOOD)


def test_other_text_starting_with_vers_is_bad_version():
    """FMT-SAFE-004 is about LFS pointers only; other text is BAD_VERSION (FMT-REC-001)."""
    err = raises(errors.BadVersionError, b"version 2 of my format\n" + b"\x00" * 40, 0)
    assert err.found == 0x73726576


def test_counts_the_input_cannot_hold_are_truncated_before_anything_is_built():
    """FMT-LOD-004, FMT-SR-003: Paddle hits length_error / bad_alloc for these."""
    raises(errors.TruncatedError, struct.pack("<IQ", 0, 2**60), 4)
    raises(errors.TruncatedError, struct.pack("<IQ", 0, 2**64 - 1) + b"\x00" * 64, 4)
    raises(errors.TruncatedError, struct.pack("<IQ", 0, 3), 4)
    raises(errors.TruncatedError, struct.pack("<IQQ", 0, 1, 2**40) + b"\x00" * 16, 20)
    with pytest.raises(errors.TruncatedError):
        codec.decode_selected_rows(struct.pack("<IQ", 0, 2**61) + b"\x00" * 64)


# --------------------------------------------------------------------------------------------
# Hostile input: no allocation beyond the input (FMT-SAFE-003) and nothing but taxonomy errors


HOSTILE = {
    "desc size 2^31-1": patched(GOOD, 16, "<i", 2**31 - 1),
    "lod levels 2^60": struct.pack("<IQ", 0, 2**60) + b"\x00" * 64,
    "lod level size 2^40": struct.pack("<IQQ", 0, 1, 2**40) + b"\x00" * 64,
    "dims [2^20, 2^20]": record_with_desc(paddle_desc(5, (2**20, 2**20)), b"\x00" * 64),
    "dims [2^30]*2 int64": record_with_desc(paddle_desc(3, (2**30, 2**30)), b"\x00" * 64),
    "selected rows 2^60": struct.pack("<IQ", 0, 2**60) + b"\x00" * 64,
    "desc of 10^5 dims": record_with_desc(paddle_desc(5, (2**62,) * 100_000), b""),
    # Many tiny levels, then a bad desc: per-level bookkeeping must not outgrow the input.
    "2*10^4 empty lod levels": struct.pack("<IQ", 0, 20_000) + b"\x00" * 160_000
    + struct.pack("<Ii", 0, 2) + b"\xff\xff",
    "10^4 lod levels [0, 1]": struct.pack("<IQ", 0, 10_000)
    + struct.pack("<3Q", 16, 0, 1) * 10_000 + struct.pack("<Ii", 0, 2) + b"\xff\xff",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_lying_headers_allocate_almost_nothing(name):
    """FMT-SAFE-003: whatever the header claims, the reader allocates O(input) at most."""
    data = HOSTILE[name]
    tracemalloc.start()
    try:
        for read in (codec.decode_tensor_file, codec.decode_selected_rows, codec.read_records):
            with pytest.raises(errors.FluidSpecError):
                read(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * len(data) + 256 * 1024, peak


@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_a_result_or_a_taxonomy_error(data):
    """ERR-001: no IndexError, struct.error, DecodeError, numpy error... on any input."""
    for read in (codec.decode_tensor_file, codec.decode_selected_rows, codec.read_records,
                 codec.decode_combined):
        try:
            read(data)
        except errors.FluidSpecError:
            pass


@given(tensor_samples(), st.data())
def test_corrupting_one_byte_gives_a_result_or_a_taxonomy_error(sample, data):
    """ERR-001 near valid input, where mutations reach deeper than random bytes do."""
    record = bytearray(codec.encode_lod_tensor(sample.array, sample.lod,
                                               data_type=sample.data_type))
    at = data.draw(st.integers(0, len(record) - 1))
    record[at] = data.draw(st.integers(0, 255))
    for read in (codec.decode_tensor_file, codec.read_records):
        try:
            read(bytes(record))
        except errors.FluidSpecError:
            pass


@given(st.binary(max_size=64), st.binary(max_size=32))
def test_arbitrary_desc_bytes_give_a_result_or_a_taxonomy_error(desc, data):
    """ERR-001 inside the TensorDesc, where the protobuf runtime does the parsing (FMT-DESC-002/003)."""
    try:
        tensor = codec.decode_tensor_file(record_with_desc(desc, data))
    except errors.FluidSpecError:
        return
    assert tensor.array.nbytes == len(data)  # accepted: the data is exactly what it describes


def test_any_buffer_is_read_as_its_bytes():
    """memoryviews of non-byte, multi-dimensional or non-contiguous buffers are bytes too."""
    as_u8 = np.frombuffer(GOOD, dtype=np.uint8)
    padded = np.zeros(2 * len(GOOD), dtype=np.uint8)
    padded[::2] = as_u8
    buffers = [bytearray(GOOD), memoryview(GOOD), memoryview(as_u8.reshape(5, 10)),
               memoryview(as_u8.view(np.int16)), memoryview(padded[::2])]
    for buf in buffers:
        tensor = codec.decode_tensor_file(buf)
        assert_same_array(tensor.array, np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))
        assert [r.end for r in codec.read_records(buf)] == [50]


def test_non_buffers_and_negative_offsets_are_invalid_arguments():
    with pytest.raises(errors.InvalidArgumentError):
        codec.decode_tensor_file("not bytes")  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgumentError):
        codec.decode_lod_tensor(GOOD, -4)
    with pytest.raises(errors.TruncatedError):
        codec.decode_lod_tensor(GOOD, 51)


def test_writer_refuses_row_ids_and_heights_outside_i64():
    """FMT-SR-004."""
    with pytest.raises(errors.InvalidArgumentError):
        codec.encode_selected_rows(np.zeros(1), [2**63], 1)
    with pytest.raises(errors.InvalidArgumentError):
        codec.encode_selected_rows(np.zeros(1), [0], "ten")
    with pytest.raises(errors.InvalidArgumentError):
        codec.encode_selected_rows(np.zeros(1), [0.5], 10)
    record = codec.encode_selected_rows(np.zeros(1), np.array([3], dtype=np.int64), np.int32(4))
    assert codec.decode_selected_rows(record).rows == [3]


def test_copy_false_is_a_view_into_the_input():
    buf = bytearray(GOOD)
    tensor = codec.decode_tensor_file(buf, copy=False)
    struct.pack_into("<f", buf, 26, 9.0)
    assert tensor.array[0, 0] == 9.0
    assert codec.decode_tensor_file(buf).array.flags.owndata


def test_sniffing_reports_selected_rows_only_when_dense_reading_fails():
    """FMT-SNIFF-001: a SelectedRows file is found; junk after it gives the dense error."""
    sr = PADDLE_SELECTED_ROWS[1]
    [header] = codec.read_records(sr)
    assert (header.kind, header.rows, header.height) == ("SelectedRows", [1, 7, 3], 10)
    with pytest.raises(errors.InvalidLodError):  # rows [1,7,3] read as LoD level sizes
        codec.read_records(sr + b"\x00")


def test_sniffing_takes_a_selected_rows_record_only_when_it_is_the_whole_input():
    """FMT-SNIFF-001: one SelectedRows record (of more than 256 bytes, past CPython's cached ints)
    is reported as such; with a byte after it, the dense-tensor error is reported instead."""
    rows = list(range(40))
    record = codec.encode_selected_rows(np.ones((40, 2), np.float32), rows, 64)
    assert len(record) > 256
    assert [h.kind for h in codec.read_records(record)] == ["SelectedRows"]
    with pytest.raises(errors.FluidSpecError) as sniffed:
        codec.read_records(record + b"\0")
    with pytest.raises(errors.FluidSpecError) as dense:
        codec.read_lod_tensor_header(record + b"\0", 0)
    assert (sniffed.value.id, sniffed.value.offset) == (dense.value.id, dense.value.offset)


def test_header_readers_start_at_the_first_byte_by_default():
    """The public header readers' ``offset`` defaults to 0: the record at the start of the buffer."""
    dense = codec.encode_lod_tensor(np.arange(3, dtype=np.int32))
    assert codec.read_lod_tensor_header(dense).end == len(dense)
    sr = codec.encode_selected_rows(np.ones((2, 2), np.float32), [0, 3], 5)
    assert codec.read_selected_rows_header(sr).end == len(sr)


def test_header_dicts_carry_rows_and_height_only_for_selected_rows():
    """What ``fluidspec inspect --json`` prints per record: a dense record has no rows/height."""
    dense = codec.read_records(codec.encode_lod_tensor(np.arange(3, dtype=np.int32)))[0].to_json()
    assert "rows" not in dense and "height" not in dense
    sr = codec.read_records(codec.encode_selected_rows(np.ones((2, 2), np.float32), [0, 3], 5))
    assert (sr[0].to_json()["rows"], sr[0].to_json()["height"]) == ([0, 3], 5)


def test_decode_combined_without_a_count_reads_every_record_to_the_end():
    """The public reader of a combined stream whose variables are not known (``fluidspec inspect``)."""
    arrays = [np.arange(3, dtype=np.float32), np.arange(4, dtype=np.int64).reshape(2, 2)]
    stream = b"".join(codec.encode_lod_tensor(a) for a in arrays)
    decoded = codec.decode_combined(stream)
    assert len(decoded) == 2
    for got, want in zip(decoded, arrays, strict=True):
        assert_same_array(got.array, want)
    assert codec.decode_combined(b"") == []
