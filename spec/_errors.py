"""The error taxonomy (clause ERR-001).

Every implementation reports bad input with one of these classes.  Each class has a stable
``id`` (the string the conformance suite and the subprocess protocol compare), and every
instance carries where the problem is (``path``, ``offset``, ``var``) and what was expected
versus what was found, so a user can act on the message without a debugger.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "FluidSpecError",
    "TruncatedError",
    "BadVersionError",
    "BadTensorDescError",
    "UnsupportedDtypeError",
    "InvalidLodError",
    "SizeOverflowError",
    "TrailingBytesError",
    "RecordCountMismatchError",
    "NotATensorFileError",
    "ShapeMismatchError",
    "DtypeMismatchError",
    "MissingFileError",
    "UnsafeNameError",
    "UninitializedVarError",
    "UnsupportedVarTypeError",
    "BadProgramError",
    "InvalidArgumentError",
    "ERROR_CLASSES",
    "error_class",
]


class FluidSpecError(Exception):
    """Base class of every taxonomy error.

    ``str(err)`` reads like ``TRUNCATED: <message> (file 'w', offset 24, variable 'w';
    expected 24 data bytes, found 10)``; the parts that are unknown are left out.
    """

    id: ClassVar[str] = "FLUIDSPEC_ERROR"
    clause: ClassVar[str] = "ERR-001"

    def __init__(
        self,
        message: str,
        *,
        path: Any = None,
        offset: int | None = None,
        var: str | None = None,
        expected: Any = None,
        found: Any = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.offset = offset
        self.var = var
        self.expected = expected
        self.found = found
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.path is not None:
            where.append(f"file {self.path!r}")
        if self.offset is not None:
            where.append(f"offset {self.offset}")
        if self.var is not None:
            where.append(f"variable {self.var!r}")
        text = f"{self.id}: {self.message}"
        details = ", ".join(where)
        if self.expected is not None or self.found is not None:
            versus = f"expected {self.expected}, found {self.found}"
            details = f"{details}; {versus}" if details else versus
        return f"{text} ({details})" if details else text

    def with_context(self, *, path: Any = None, var: str | None = None) -> FluidSpecError:
        """Fill in ``path``/``var`` when a caller higher up knows them; returns ``self``."""
        if path is not None and self.path is None:
            self.path = str(path)
        if var is not None and self.var is None:
            self.var = var
        self.args = (self._render(),)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by ``fluidspec inspect`` and the subprocess protocol."""
        return {
            "error": self.id,
            "message": self.message,
            "path": self.path,
            "offset": self.offset,
            "var": self.var,
            "expected": None if self.expected is None else str(self.expected),
            "found": None if self.found is None else str(self.found),
        }


class TruncatedError(FluidSpecError):
    """The bytes end before the structure being read does (FMT-SAFE-001)."""

    id = "TRUNCATED"
    clause = "FMT-SAFE-001"


class BadVersionError(FluidSpecError):
    """A version field is not 0 (FMT-REC-001, FMT-REC-003, FMT-SR-001)."""

    id = "BAD_VERSION"
    clause = "FMT-REC-001"


class BadTensorDescError(FluidSpecError):
    """The TensorDesc is not a parseable ``VarType.TensorDesc`` with a known data_type, has a
    negative size, or has more dims than FMT-DESC-005 allows (FMT-DESC-003..005)."""

    id = "BAD_TENSOR_DESC"
    clause = "FMT-DESC-003"


class UnsupportedDtypeError(FluidSpecError):
    """An element type that has no defined size/numpy dtype (or a dtype we cannot encode)."""

    id = "UNSUPPORTED_DTYPE"
    clause = "FMT-DTYPE-005"


class InvalidLodError(FluidSpecError):
    """A LoD section that is not a valid LoD for the tensor (FMT-LOD-*)."""

    id = "INVALID_LOD"
    clause = "FMT-LOD-003"


class SizeOverflowError(FluidSpecError):
    """Dims that are negative or whose byte size does not fit in 63 bits."""

    id = "SIZE_OVERFLOW"
    clause = "FMT-SAFE-002"


class TrailingBytesError(FluidSpecError):
    """Bytes after the last expected record that are not whole records (FMT-COMB-002), or any
    bytes after a separate file's record (FMT-COMB-003)."""

    id = "TRAILING_BYTES"
    clause = "FMT-COMB-002"


class RecordCountMismatchError(FluidSpecError):
    """A combined stream holds more or fewer whole records than variables were selected."""

    id = "RECORD_COUNT_MISMATCH"
    clause = "SEL-LOAD-004"


class NotATensorFileError(FluidSpecError):
    """The bytes are recognisably something else (a Git LFS pointer, a ProgramDesc, ...)."""

    id = "NOT_A_TENSOR_FILE"
    clause = "FMT-SAFE-004"


class ShapeMismatchError(FluidSpecError):
    """A loaded Parameter's shape differs from its declared shape (SEL-LOAD-002)."""

    id = "SHAPE_MISMATCH"
    clause = "SEL-LOAD-002"


class DtypeMismatchError(FluidSpecError):
    """A combined record's element type differs from the selected variable's declared dtype."""

    id = "DTYPE_MISMATCH"
    clause = "SEL-LOAD-005"


class MissingFileError(FluidSpecError, FileNotFoundError):
    """A file (or directory) a load needs does not exist."""

    id = "MISSING_FILE"
    clause = "SEL-LOAD-001"


class UnsafeNameError(FluidSpecError):
    """A variable or file name that would escape ``dirname`` or is not a usable file name."""

    id = "UNSAFE_NAME"
    clause = "SEL-PATH-001"


class UninitializedVarError(FluidSpecError):
    """A selected variable has no value in the scope."""

    id = "UNINITIALIZED"
    clause = "SEL-SAVE-006"


class UnsupportedVarTypeError(FluidSpecError):
    """A selected variable whose kind cannot be saved/loaded in this mode."""

    id = "UNSUPPORTED_VAR_TYPE"
    clause = "SEL-SAVE-007"


class BadProgramError(FluidSpecError):
    """A ``__model__`` that is not a parseable ProgramDesc, or lacks what the API needs."""

    id = "BAD_PROGRAM"
    clause = "INF-LOAD-001"


class InvalidArgumentError(FluidSpecError, ValueError):
    """An API called with arguments the spec does not allow."""

    id = "INVALID_ARGUMENT"
    clause = "API-ARG-001"


ERROR_CLASSES: dict[str, type[FluidSpecError]] = {
    cls.id: cls
    for cls in (
        TruncatedError,
        BadVersionError,
        BadTensorDescError,
        UnsupportedDtypeError,
        InvalidLodError,
        SizeOverflowError,
        TrailingBytesError,
        RecordCountMismatchError,
        NotATensorFileError,
        ShapeMismatchError,
        DtypeMismatchError,
        MissingFileError,
        UnsafeNameError,
        UninitializedVarError,
        UnsupportedVarTypeError,
        BadProgramError,
        InvalidArgumentError,
    )
}


def error_class(error_id: str) -> type[FluidSpecError]:
    """Look up a taxonomy class by its stable id (``KeyError`` if there is none)."""
    return ERROR_CLASSES[error_id]
