"""The JSON Schema of the subprocess protocol (``spec/protocol.schema.json``, PROTO-SCHEMA-001).

The schema file is the normative, language-neutral form; this module only loads it.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["PROTOCOL_SCHEMA_PATH", "protocol_schema"]

PROTOCOL_SCHEMA_PATH = Path(__file__).resolve().parent / "protocol.schema.json"


@lru_cache(maxsize=1)
def _loaded() -> dict[str, Any]:
    return json.loads(PROTOCOL_SCHEMA_PATH.read_text(encoding="utf-8"))


def protocol_schema() -> dict[str, Any]:
    """The protocol's JSON Schema (draft 2020-12), a fresh copy the caller may change."""
    return copy.deepcopy(_loaded())
