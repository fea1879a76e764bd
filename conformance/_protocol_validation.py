"""Validation of protocol responses against ``spec/protocol.schema.json`` (PROTO-SCHEMA-001).

A response that breaks the schema is a ``ProtocolViolation``: a ``ClauseFailure`` of the PROTO
clause the schema's ``x-clause`` annotations assign to the part that is wrong, so the runner
charges it to that clause and to nothing else.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from fluidspec.conformance._verdict import ClauseFailure
from fluidspec.spec import protocol_schema

__all__ = ["ProtocolViolation", "validate_response", "response_definition"]

#: How much of an offending response a violation quotes (responses carry whole tensors).
_QUOTE_LIMIT = 600
_SCHEMA_CLAUSE = "PROTO-SCHEMA-001"
#: The schema definition each request's response must match.
_RESPONSE_DEFINITIONS = {"hello": "hello_response", "run": "run_response",
                         "shutdown": "shutdown_response"}


class ProtocolViolation(ClauseFailure):
    """A response that breaks ``spec/protocol.schema.json``: a failure of ``clause`` only."""

    def __init__(self, clause: str, message: str, offending_message: Any) -> None:
        quoted = json.dumps(offending_message, ensure_ascii=False, default=repr)
        if len(quoted) > _QUOTE_LIMIT:
            quoted = quoted[:_QUOTE_LIMIT] + f"… ({len(quoted)} characters)"
        super().__init__(clause, f"{message}; response: {quoted}")
        #: What is wrong, without the quoted response.
        self.reason = message
        self.offending_message = quoted


@cache
def _validator(definition: str) -> Draft202012Validator:
    """A validator of ``#/$defs/<definition>``, built once: the root schema with its top-level
    alternatives replaced by that one definition, so references and ``x-clause`` resolve as in
    the file."""
    root = protocol_schema()
    root.pop("anyOf", None)
    root.pop("x-clause", None)  # PROTO-SCHEMA-001 is the fallback; it must not pin the definition
    root["$ref"] = f"#/$defs/{definition}"
    return Draft202012Validator(root)


def _resolve_local(ref: str, root: dict[str, Any]) -> Any:
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _clause_of(error: ValidationError, root: dict[str, Any]) -> str:
    """The innermost ``x-clause`` on the schema path of ``error`` (the schema's own mapping of
    message parts to PROTO clauses); PROTO-SCHEMA-001 where none is nearer.  A reference that
    carries its own ``x-clause`` overrides the one at the top of its target (a loaded program is
    PROTO-PROG-002 although it is shaped as the PROTO-PROG-001 definition)."""
    node: Any = root
    clause = root.get("x-clause", _SCHEMA_CLAUSE)
    for key in error.absolute_schema_path:
        pinned = False
        # jsonschema leaves "$ref" out of schema paths: a reference is followed silently.  The
        # schema keeps references alone in their object (besides x-clause), so this is exact.
        while isinstance(node, dict) and "$ref" in node and key not in node:
            pinned = "x-clause" in node
            clause = node.get("x-clause", clause)
            node = _resolve_local(node["$ref"], root)
        if isinstance(node, dict) and not pinned:
            clause = node.get("x-clause", clause)
        node = node[key]
    if isinstance(node, dict):
        clause = node.get("x-clause", clause)
    return clause


def response_definition(op: Any) -> str:
    """The schema definition the response to a request with this ``op`` must match."""
    return _RESPONSE_DEFINITIONS.get(op, "response")


def validate_response(response: Any, definition: str = "response") -> None:
    """Raise ``ProtocolViolation`` unless ``response`` matches ``#/$defs/<definition>`` of the
    protocol schema (``hello_response``, ``run_response``, ``shutdown_response``, ``response``)."""
    validator = _validator(definition)
    error = best_match(validator.iter_errors(response))
    if error is None:
        return
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    raise ProtocolViolation(_clause_of(error, validator.schema),
                            f"{definition} breaks the protocol schema at {where}: {error.message}",
                            response)
