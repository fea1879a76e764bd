"""Write the sample files of this folder with the formats' own libraries (not part of the tests).

    python make_samples.py    # in a venv with onnx==1.23.2, safetensors==0.8.0 and numpy

``fluidspec inspect`` must name each for what it is (tests/cli/test_detect.py); the files are
committed so the tests need neither library.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save_file

HERE = Path(__file__).resolve().parent


def main() -> None:
    weight = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), name="w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [weight])
    model = helper.make_model(graph, producer_name="fluidspec-samples")
    onnx.checker.check_model(model)
    onnx.save(model, HERE / "tiny.onnx")
    save_file({"w": np.arange(6, dtype=np.float32).reshape(2, 3),
               "b": np.zeros(3, dtype=np.int64)}, str(HERE / "tiny.safetensors"))


if __name__ == "__main__":
    main()
