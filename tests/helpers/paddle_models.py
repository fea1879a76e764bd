"""Write small models with real Paddle, for the ``inspect``/``diff`` tests of what a file is.

Run with a Paddle interpreter: ``python paddle_models.py OUT_DIR``.  Writes, under OUT_DIR:

* ``jit/model.*``: ``paddle.jit.save`` of one Linear layer (Paddle 2.6.2: ``.pdmodel``,
  ``.pdiparams``, ``.pdiparams.info``; Paddle 3.x: ``.json`` and ``.pdiparams``);
* ``infer/model.*``: ``paddle.static.save_inference_model`` (Paddle 2.6.2: ``.pdmodel``;
  Paddle 3.x with PIR on: ``.json``), with ``.pdiparams``;
* ``state.pdparams``: ``paddle.save`` of the net's state dict (a pickle);
* ``names.json``: the parameter names of the net, sorted, for the tests to compare with.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import paddle


def main(out: Path) -> None:
    paddle.seed(7)
    # One Linear: Paddle 2.6.2's jit.save of a Sequential or a Layer subclass crashes here
    # (SIGSEGV in zlib's inflateReset2 while dy2static transforms the forward).
    net = paddle.nn.Linear(4, 3)
    net.eval()
    spec = [paddle.static.InputSpec([None, 4], "float32", "x")]
    paddle.jit.save(net, str(out / "jit" / "model"), input_spec=spec)
    paddle.save(net.state_dict(), str(out / "state.pdparams"))
    (out / "names.json").write_text(json.dumps(sorted(p.name for p in net.parameters())))

    paddle.enable_static()
    main_prog, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main_prog, startup):
        x = paddle.static.data("x", [None, 4], "float32")
        y = paddle.static.nn.fc(x, 3, name="fc")
    exe = paddle.static.Executor(paddle.CPUPlace())
    exe.run(startup)
    paddle.static.save_inference_model(str(out / "infer" / "model"), [x], [y], exe,
                                       program=main_prog)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
