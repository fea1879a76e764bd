"""``fluid.io``: the eight save/load APIs and the two selection predicates.

Selection and files: spec chapter ``selection`` (SEL-*); inference models: chapter
``inference`` (INF-*).
"""

from fluidspec.reference._inference import load_inference_model, save_inference_model
from fluidspec.reference._io import (
    is_parameter,
    is_persistable,
    load_params,
    load_persistables,
    load_vars,
    save_params,
    save_persistables,
    save_vars,
)

__all__ = [
    "save_vars",
    "load_vars",
    "save_params",
    "load_params",
    "save_persistables",
    "load_persistables",
    "save_inference_model",
    "load_inference_model",
    "is_parameter",
    "is_persistable",
]
