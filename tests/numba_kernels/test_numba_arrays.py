"""numba_kernels.arrays against the reference codec (the byte-equality oracle, tests only).

Clauses: FMT-REC-001..007, FMT-DESC-001/002/004/005, FMT-DTYPE-001..006, FMT-LOD-002..004,
FMT-COMB-001..003, FMT-SR-001/003, FMT-SAFE-001/002/004, ERR-001.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluidspec import numba_kernels
from fluidspec.numba_kernels import arrays
from fluidspec.reference import _codec as ref
from fluidspec.spec.errors import FluidSpecError

DTYPES = [np.bool_, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64, np.uint8,
          np.int8, ml_dtypes.bfloat16, np.complex64, np.complex128, ml_dtypes.float8_e4m3fn,
          ml_dtypes.float8_e5m2, np.uint16, np.uint32, np.uint64, ">f4", ">i8", ">c16"]


@pytest.fixture(scope="session", autouse=True)
def _warm() -> None:
    numba_kernels.warm_up()  # no JIT compile inside a Hypothesis example


@st.composite
def tensors(draw: st.DrawFn) -> tuple[np.ndarray, list[list[int]]]:
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    rank = draw(st.integers(0, 8))
    if rank and draw(st.booleans()):  # one dim >= 128 (multi-byte varint), the rest tiny
        big = draw(st.integers(128, 300))
        shape = [big] + [draw(st.integers(0, 1)) for _ in range(rank - 1)]
        shape = draw(st.permutations(shape))
    else:
        shape = [draw(st.integers(0, 4)) for _ in range(rank)]
    raw = draw(st.binary(min_size=int(np.prod(shape)) * dtype.itemsize,
                         max_size=int(np.prod(shape)) * dtype.itemsize))
    array = np.frombuffer(raw, dtype).reshape(shape) if shape else np.frombuffer(raw, dtype)[0:1].reshape(())
    if dtype == np.bool_:
        array = array.view(np.uint8).astype(bool).reshape(array.shape)
    if rank >= 2 and draw(st.booleans()):
        array = np.swapaxes(array, 0, 1)  # non-contiguous input
    lod: list[list[int]] = []
    if array.ndim and draw(st.booleans()):
        rows = array.shape[0]
        for _ in range(draw(st.integers(1, 3))):
            cuts = sorted(draw(st.lists(st.integers(0, rows), max_size=4)))
            level = [0, *cuts, rows]
            lod.insert(0, level)
            rows = len(level) - 1
    return array, lod


@given(st.lists(tensors(), max_size=6), st.booleans())
def test_encode_is_byte_identical_to_reference(items, into_buffer):
    """FMT-REC-001..007, FMT-DESC-001, FMT-DTYPE-002/003, FMT-COMB-001."""
    expected = ref.encode_combined(items)
    arrs = [a for a, _ in items]
    lods = [lod for _, lod in items]
    if into_buffer:
        out = np.full(len(expected) + 7, 0xAB, np.uint8)
        got = arrays.encode(arrs, lods, out=out)
        assert got.tobytes() == expected
        assert (out[len(expected):] == 0xAB).all()
    else:
        assert arrays.encode(arrs, lods) == expected
    assert arrays.encoded_size(arrs, lods) == len(expected)


@given(st.lists(tensors(), max_size=6), st.booleans())
def test_decode_round_trips_like_reference(items, copy):
    """FMT-REC-005 (0-d stays 0-d), FMT-DTYPE-001/003 (decoded dtypes), FMT-LOD-001."""
    data = ref.encode_combined(items)
    expected = ref.decode_combined(data, len(items))
    got = arrays.decode(data, copy=copy, count=len(items))
    assert len(got) == len(expected)
    for (array, lod), want in zip(got, expected, strict=True):
        assert array.dtype == want.array.dtype
        assert array.shape == want.array.shape
        assert array.tobytes() == want.array.tobytes()
        assert lod == want.lod
        if copy:
            assert array.flags.writeable and array.flags.aligned
    assert len(arrays.decode(data)) == len(items)


@pytest.mark.parametrize("shapes", [
    [(2, 3, 4), (2, 4, 3)],  # same length and size, other shape
    [(0, 5), (0, 7)],        # no rows: length and size say nothing of the columns
    [(6,), (6, 1)],          # other rank
    [(2, 6), (3, 4)],        # same size, other length
    [(4, 6), (4, 6), (4, 6)],
    [(), (), ()],
    [(5,), (5,), (4,)],
    [(), (1,)],              # a scalar first, then a vector
    [(2, 2), (2, 2, 1)],     # a trailing axis of one
], ids=str)
def test_arrays_alike_in_cheap_columns_are_still_told_apart_by_shape(shapes):
    """The uniform plan (one header for all) is taken only when every shape is the first one's:
    arrays that agree in length, size or rank but not in shape encode as the reference does."""
    items = [(np.zeros(shape, np.float32), []) for shape in shapes]
    assert arrays.encode([a for a, _ in items]) == ref.encode_combined(items)
    for swapped in ([np.zeros(s, ">f4") for s in shapes], [np.zeros(s, "<f4") for s in shapes]):
        assert arrays.encode(swapped) == ref.encode_combined([(a, []) for a in swapped])


def _decode_in_place(arena: np.ndarray, count: int) -> list[tuple[np.ndarray, list]]:
    """``cpu.parse_in_place`` and the arrays it leaves; where it declines, the usual decode of
    the bytes (read again, as the file loads do, when it had moved some)."""
    from fluidspec.numba_kernels import cpu
    from fluidspec.numba_kernels.cpu import _decode

    before = arena.tobytes()
    parsed, intact = cpu.parse_in_place(arena, count)
    if parsed is None:
        assert not intact or arena.tobytes() == before
        if not intact:
            arena[:] = np.frombuffer(before, np.uint8)
        return cpu.decode(arena, True, count, private=True)
    _, index = _decode._index(before, count, None, None, False, False)
    for field in ("rec_off", "data_off", "codes", "nbytes", "dims_off", "dims", "lvl_off",
                  "lvl_len"):
        assert getattr(parsed, field).tolist() == getattr(index, field).tolist(), field
    return list(zip(cpu.arrays_of(arena, parsed, True, True), cpu.lods_of(arena, parsed),
                    strict=True))


@pytest.mark.parametrize("route", ["parse-then-move", "move-while-parsing"])
@given(groups=st.lists(st.tuples(tensors(), st.integers(1, 40)), max_size=5))
def test_a_private_buffer_is_decoded_by_moving_payloads_in_place(route, groups):
    """A buffer nobody else sees (a file just read) is decoded by moving every payload to an
    aligned place inside it instead of copying it out — after the parse (``decode`` with
    ``private``) or record by record during it (``parse_in_place``): the arrays, LoDs and
    dtypes are the reference's, each array is aligned, writable and shares no byte with
    another, and they all live in that one buffer.  Repeated tensors form runs (several
    records, one view)."""
    from fluidspec.numba_kernels import cpu

    items = [item for item, times in groups for _ in range(times)]
    data = ref.encode_combined(items)
    expected = ref.decode_combined(data, len(items))
    arena = np.frombuffer(data, np.uint8).copy()
    if route == "parse-then-move":
        got = cpu.decode(arena, True, len(items), private=True)
    else:
        got = _decode_in_place(arena, len(items))
    assert len(got) == len(expected)
    for (array, lod), want in zip(got, expected, strict=True):
        assert array.dtype == want.array.dtype and array.shape == want.array.shape
        assert array.tobytes() == want.array.tobytes() and lod == want.lod
        assert array.flags.writeable and array.flags.aligned
        assert array.size == 0 or np.shares_memory(array, arena)
    spans = sorted((a.ctypes.data, a.ctypes.data + a.nbytes) for a, _ in got if a.nbytes)
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:], strict=False))


def _in_place_case(case: str) -> tuple[bytes, int, int]:
    """A combined stream for the one-pass parse: ``(bytes, record count, bytes of the records
    before any damage)``; ``case`` names the stream or what is wrong with it."""
    small = [(np.arange(6, dtype=np.float32).reshape(2, 3) + i, [[0, 1, 2]] if i == 1 else [])
             for i in range(4)]
    five_dims = (np.zeros((1, 2, 1, 2, 1), np.int64), [])
    many_lod_values = (np.zeros((9, 2), np.float32), [list(range(10))])
    items = {"five-dims": [five_dims] * 4, "one-five-dim-record": [five_dims],
             "many-lod-values": [many_lod_values] * 4,
             "one-record-many-lod-values": [many_lod_values]}.get(case, small)
    data = bytearray(ref.encode_combined(items))
    records = len(data)
    if case == "first-record-cut":
        data = data[:10]
    elif case == "later-record-cut":
        data = data[:-3]
    elif case == "trailing-bytes":
        data += b"\0" * 5
    elif case == "bad-middle-version":
        data[len(ref.encode_combined(items[:2]))] = 9
    elif case == "lfs-pointer":
        data = bytearray(b"version https://git-lfs.github.com/spec/v1\n" + b"x" * 100)
    return bytes(data), len(items), records


@pytest.mark.parametrize("case, fused, intact", [
    ("well-formed", True, False),
    ("first-record-cut", False, True),    # stops before anything moved
    ("later-record-cut", False, False),   # stops after earlier payloads moved
    ("trailing-bytes", False, False),
    ("five-dims", False, False),          # dims beyond the room of one pass, at the fourth
    ("one-five-dim-record", False, True),  # ... at the first
    ("many-lod-values", False, False),    # LoD offsets beyond that room, at the second
    ("one-record-many-lod-values", False, True),
    ("read-only", False, True),
], ids=str)
def test_parse_in_place_declines_what_it_cannot_finish_and_says_what_it_moved(case, fused,
                                                                              intact):
    """``parse_in_place`` returns a parse only for a well-formed stream of exactly the count;
    otherwise None, and whether the buffer still holds its bytes, so that a file load reads
    the file again only when payloads moved (and the usual parse names any error)."""
    from fluidspec.numba_kernels import cpu

    data, count, _ = _in_place_case(case)
    arena = np.frombuffer(data, np.uint8).copy()
    if case == "read-only":
        arena.flags.writeable = False
    parsed, said_intact = cpu.parse_in_place(arena, count)
    assert (parsed is not None, said_intact) == (fused, intact)
    if parsed is None:
        assert (arena.tobytes() == data) is intact


@pytest.mark.parametrize("piece", [1, 7, 100, 1000, "records"], ids=str)
@pytest.mark.parametrize("case", ["well-formed", "first-record-cut", "later-record-cut",
                                  "trailing-bytes", "bad-middle-version", "five-dims",
                                  "many-lod-values", "lfs-pointer"])
def test_parse_in_place_fed_in_pieces_decides_as_over_the_whole_buffer(case, piece):
    """``parse_in_place`` with ``filled`` (a buffer still being filled, ``piece`` bytes at a
    time) walks each piece as it comes: a record cut by a piece's end, or whose LoD level
    count the bytes in so far could not hold, waits for the next, and the stream is judged on
    the final length alone, so the parse, the moves and the answer are those of one pass over
    the whole buffer — also when the records end exactly where a piece does and bytes follow
    them ("records")."""
    from fluidspec.numba_kernels import cpu

    data, count, records = _in_place_case(case)
    steps = ([records, len(data)] if piece == "records" else
             [*range(piece, len(data), piece), len(data)])
    steps = sorted({min(step, len(data)) for step in steps})
    asked: list[int] = []

    def filled(walked: int) -> tuple[int, bool]:
        asked.append(walked)
        size = next((step for step in steps if step > walked), len(data))
        return size, size == len(data)

    whole = np.frombuffer(bytes(data), np.uint8).copy()
    fed = whole.copy()
    want = cpu.parse_in_place(whole, count)
    got = cpu.parse_in_place(fed, count, filled)
    assert (got[0] is None, got[1]) == (want[0] is None, want[1])
    assert fed.tobytes() == whole.tobytes()
    if want[0] is not None:
        for field in ("rec_off", "data_off", "codes", "nbytes", "dims_off", "dims", "lvl_off",
                      "lvl_pos", "lvl_len", "run_starts", "run_at", "lod_vals"):
            assert getattr(got[0], field).tolist() == getattr(want[0], field).tolist(), field
        assert got[0].end == want[0].end
    assert asked == sorted(asked) and asked[:1] in ([], [0])


@pytest.mark.parametrize("cut", [0, 3])
def test_a_record_spanning_many_pieces_is_walked_a_logarithmic_number_of_times(cut):
    """A record whose LoD runs over hundreds of pieces is not walked again at every piece
    (each walk reads all its levels in so far): one the walk stopped at before waits for the
    bytes from its start to double.  The answer is still that of one pass over the whole
    buffer."""
    from fluidspec.numba_kernels import cpu

    offsets = list(range(1000))  # 40 levels of 8,000 bytes, each level's last entry the next's
    lod = [offsets] * 40           # length less one, as FMT-LOD-002 asks
    items = [(np.ones(3, np.float32), []), (np.ones(999, np.float32), lod),
             (np.ones(3, np.float32), [])]
    data = ref.encode_combined(items)
    data = data[:len(data) - cut]  # cut: the last record ends early, judged at the end only
    piece = 1000
    asked: list[int] = []

    def filled(walked: int) -> tuple[int, bool]:
        asked.append(walked)
        size = min(len(data), (walked // piece + 1) * piece)
        return size, size == len(data)

    whole = np.frombuffer(data, np.uint8).copy()
    fed = whole.copy()
    want = cpu.parse_in_place(whole, len(items))
    got = cpu.parse_in_place(fed, len(items), filled)
    assert (got[0] is None, got[1]) == (want[0] is None, want[1])
    assert fed.tobytes() == whole.tobytes()
    pieces = -(-len(data) // piece)
    assert pieces > 300 and len(asked) <= 2 * pieces.bit_length(), (len(asked), pieces)


def test_a_buffer_that_is_not_private_is_never_written():
    """Without ``private`` (or with a read-only buffer), decoding copies and leaves the input as
    it was."""
    from fluidspec.numba_kernels import cpu

    data = ref.encode_combined([(np.arange(300, dtype=np.float32), [])] * 5)
    arena = np.frombuffer(data, np.uint8).copy()
    cpu.decode(arena, True, 5)
    read_only = np.frombuffer(data, np.uint8)
    got = cpu.decode(read_only, True, 5, private=True)
    assert arena.tobytes() == data and read_only.tobytes() == data
    assert all(a.flags.writeable and not np.shares_memory(a, read_only) for a, _ in got)


@pytest.mark.parametrize("case", ["uniform", "five-dims", "lod-levels", "one-record"])
def test_one_pass_index_equals_the_two_pass_index(case):
    """With the record count known, the parse fills arrays sized from that count in one pass;
    where they are too small (more dims or LoD levels than room) it parses twice.  Either way
    the index is the one the counting pass would give."""
    from fluidspec.numba_kernels.cpu import _decode

    items = {
        "uniform": [(np.full((4, 3), i, np.float32), None) for i in range(40)],
        "five-dims": [(np.zeros((1, 2, 1, 2, 1), np.int64), None) for _ in range(7)],
        "lod-levels": [(np.zeros((6, 2), np.float32), [[0, 1, 3], [0, 2, 4, 6]])
                       for _ in range(5)],
        "one-record": [(np.arange(5, dtype=np.int16), [[0, 2, 5]])],
    }[case]
    data = ref.encode_combined(items)
    u8 = _decode.as_u8(data)
    once = _decode._index_once(u8, len(items))
    _, twice = _decode._index(data, None, None, None, False, False)
    fits = case in ("uniform", "one-record")
    assert (once is not None) == fits  # five dims or two LoD levels a record: no room
    _, combined = _decode.parse(data, len(items))
    for got in [combined] + ([once] if once is not None else []):
        assert got.n == twice.n == len(items) and got.end == twice.end == len(data)
        for field in ("rec_off", "data_off", "codes", "nbytes", "dims_off", "dims", "lvl_off",
                      "lvl_pos", "lvl_len"):
            assert getattr(got, field).tolist() == getattr(twice, field).tolist(), field


def test_one_pass_index_declines_a_count_the_bytes_cannot_hold():
    """FMT-SAFE-003: room is sized from the count only when the buffer holds that many
    records (22 bytes each at least); a larger count is the two-pass path's error."""
    from fluidspec.numba_kernels.cpu import _decode

    data = ref.encode_combined([(np.zeros(2, np.float32), None)])
    assert _decode._index_once(_decode.as_u8(data), 10**12) is None
    with pytest.raises(FluidSpecError) as info:
        _decode.parse(data, 10**12)
    assert info.value.id == "RECORD_COUNT_MISMATCH"


def test_many_equal_tensors_use_one_strided_run():
    """The fast path for equal tensors gives the same bytes and independent views."""
    arrs = [np.full((4, 3), i, np.float32) for i in range(50)]
    data = arrays.encode(arrs)
    assert data == ref.encode_combined((a, None) for a in arrs)
    out = arrays.decode(data)
    assert [int(a[0, 0]) for a, _ in out] == list(range(50))
    copies = arrays.decode(bytearray(data), copy=True)
    assert all((a == b).all() for (a, _), (b, _) in zip(out, copies, strict=True))


def test_zero_copy_views_share_the_buffer():
    """Lifetime rule: views see the buffer; copies do not."""
    buf = bytearray(arrays.encode([np.zeros(3, np.int32)]))
    view = arrays.decode(buf)[0][0]
    copy = arrays.decode(buf, copy=True)[0][0]
    buf[-4:] = (7).to_bytes(4, "little")
    assert view[-1] == 7 and copy[-1] == 0


def test_true_uint16_by_code_and_bf16_by_dtype():
    """FMT-DTYPE-003: uint16 arrays are BF16 (22); code 36 only on request."""
    a = np.array([1, 2], np.uint16)
    assert arrays.encode([a]) == ref.encode_lod_tensor(a)
    assert arrays.encode([a], data_types=[36]) == ref.encode_lod_tensor(a, data_type=36)
    assert arrays.decode(arrays.encode([a], data_types=[36]))[0][0].dtype == np.uint16
    assert arrays.decode(arrays.encode([a]))[0][0].dtype == ml_dtypes.bfloat16


def _error_id(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except FluidSpecError as exc:
        return exc.id, exc.offset
    return None


BAD_WRITES = [
    ([np.zeros(3)], [[[0, 1]]]),
    ([np.zeros(3)], [[[0, 4]]]),
    ([np.zeros(())], [[[0, 0]]]),
    ([np.zeros(3), np.array(["x"])], None),
    ([np.array(["x"]), np.zeros(3)], [None, [[0, 5]]]),
    ([np.zeros(3), np.zeros(2)], [None, [[0, "a"]]]),
    ([np.zeros(3, object)], None),
    ([np.zeros(5)], [[[0, 3], [0, 2, 5]]]),
    ([np.zeros(5)], [[[0, 1, 2], [0, 2, 4]]]),
    ([np.zeros(5)], [[[0, -1, 5]]]),
    ([np.zeros(5)], [[[0, 1 << 70]]]),
]


@pytest.mark.parametrize("arrs,lods", BAD_WRITES)
def test_writer_errors_match_reference(arrs, lods):
    """FMT-LOD-002, FMT-DTYPE-006: same taxonomy id for the same bad input."""
    want = _error_id(ref.encode_combined, list(zip(arrs, lods or [None] * len(arrs), strict=True)))
    assert want is not None
    assert _error_id(arrays.encode, arrs, lods) == (want[0], None)


def _mutations(data: bytes, draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "u64", "u32", "splice"]))
    if not data:
        return bytes(draw(st.binary(max_size=40)))
    at = draw(st.integers(0, len(data) - 1))
    if kind == "flip":
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=12)) + data[at:]
    if kind == "splice":
        return data[:at] + b"version https://git-lfs"[: draw(st.integers(1, 23))]
    width = 8 if kind == "u64" else 4
    value = draw(st.sampled_from([0, 1, 7, 8, 9, 127, 128, 2**31, 2**32 - 1, 2**63, 2**64 - 1]))
    return data[:at] + value.to_bytes(8, "little")[:width] + data[at + width:]


@st.composite
def corrupted(draw: st.DrawFn) -> tuple[bytes, int]:
    items = draw(st.lists(tensors(), min_size=1, max_size=3))
    data = ref.encode_combined(items)
    for _ in range(draw(st.integers(1, 3))):
        data = _mutations(data, draw)
    return data, len(items)


def _ref_combined(data, count):
    return [(d.array, d.lod) for d in ref.decode_combined(data, count)]


def _outcome(fn, *args):
    try:
        result = fn(*args)
    except FluidSpecError as exc:
        return ("error", exc.id, exc.offset)
    return ("ok", [(a.dtype.str, a.shape, a.tobytes(), lod) for a, lod in result])


@given(corrupted())
def test_corrupted_bytes_give_the_reference_error(case):
    """ERR-001 and every FMT-SAFE/FMT-LOD/FMT-DESC reader clause: same id and offset."""
    data, count = case
    assert _outcome(arrays.decode, data, True, count) == _outcome(_ref_combined, data, count)
    assert _outcome(arrays.decode, data, True, None) == _outcome(_ref_combined, data, None)
    one = _outcome(lambda b: [arrays.decode_record(b)], data)
    ref_one = _outcome(lambda b: [(d.array, d.lod) for d in [ref.decode_tensor_file(b)]], data)
    assert one == ref_one


NON_CANONICAL = [
    bytes.fromhex("1202020308 05".replace(" ", "")),  # packed dims first, then data_type
    bytes.fromhex("0805 1202 0203"),  # packed dims
    bytes.fromhex("0805 1003 1801"),  # unknown field
    bytes.fromhex("0807 1002"),  # a var kind, not an element type
    bytes.fromhex("0863 1002"),  # outside the enum
    bytes.fromhex("1002"),  # no data_type
    bytes.fromhex("0805 10"),  # truncated varint
    bytes.fromhex("0805 0806 1001"),  # data_type twice
    bytes.fromhex("0805") + bytes.fromhex("1001") * 65,  # FMT-DESC-005
    bytes.fromhex("0805 10ffffffffffffffffff01"),  # -1: negative dim
]


@pytest.mark.parametrize("desc", NON_CANONICAL)
def test_non_canonical_desc_matches_reference(desc):
    """FMT-DESC-002/003/005, FMT-DTYPE-005: descs only a protobuf runtime judges."""
    data = (b"\0" * 12 + b"\0\0\0\0" + len(desc).to_bytes(4, "little") + desc + b"\x11" * 24)
    for count in (1, None):
        assert _outcome(arrays.decode, data, True, count) == _outcome(_ref_combined, data, count)


def test_selected_rows_round_trip():
    """FMT-SR-001: bytes equal to the reference; decode gives rows and height back."""
    value = np.arange(6, dtype=np.float32).reshape(3, 2)
    data = arrays.encode_selected_rows(value, [1, 7, 3], 10)
    assert data == ref.encode_selected_rows(value, [1, 7, 3], 10)
    array, rows, height = arrays.decode_selected_rows(data)
    assert (array == value).all() and rows == [1, 7, 3] and height == 10
    bad = data[:4] + (10**6).to_bytes(8, "little") + data[12:]
    assert _error_id(arrays.decode_selected_rows, bad) == ("TRUNCATED", 4)


def test_decode_accepts_any_buffer_and_refuses_non_buffers():
    """ERR-001: a non-buffer is INVALID_ARGUMENT, not a TypeError."""
    data = arrays.encode([np.arange(4, dtype=np.int64)])
    for buf in (data, bytearray(data), memoryview(data), np.frombuffer(data, np.uint8)):
        assert arrays.decode(buf)[0][0].tolist() == [0, 1, 2, 3]
    assert _error_id(arrays.decode, 42)[0] == "INVALID_ARGUMENT"
