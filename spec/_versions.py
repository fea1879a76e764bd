"""Version constants of the formats (clauses FMT-REC-001, FMT-REC-003, FMT-SR-001, PROG-VER-001)."""

from __future__ import annotations

__all__ = [
    "LOD_TENSOR_VERSION",
    "TENSOR_VERSION",
    "SELECTED_ROWS_VERSION",
    "PROGRAM_VERSION_COEFFICIENTS",
    "PADDLE_2_6_2_PROGRAM_VERSION",
    "LEGACY_PROGRAM_VERSION",
    "program_version",
]

#: First u32 of every dense-tensor record ("LoD-tensor version"); readers accept only 0.
LOD_TENSOR_VERSION = 0
#: u32 before the TensorDesc size ("tensor version"); readers accept only 0.
TENSOR_VERSION = 0
#: First u32 of a SelectedRows record.
SELECTED_ROWS_VERSION = 0
#: ProgramDesc.version.version = major*10**6 + minor*10**3 + patch.
PROGRAM_VERSION_COEFFICIENTS = (1_000_000, 1_000, 1)
#: What Paddle 2.6.2 writes into an inference model's ProgramDesc.version.
PADDLE_2_6_2_PROGRAM_VERSION = 2_006_002
#: What ``legacy_format=True`` writes (Paddle 2.4.2).
LEGACY_PROGRAM_VERSION = 2_004_002


def program_version(major: int, minor: int, patch: int) -> int:
    """Encode a Paddle release as the integer ProgramDesc.version carries."""
    a, b, c = PROGRAM_VERSION_COEFFICIENTS
    return major * a + minor * b + patch * c
