"""Load an inference model with REAL Paddle 2.6.2 and run it once (used by tests/live/test_paddle_live.py).

    .venv-paddle/bin/python conformance/paddle/run_inference.py DIRNAME FEEDS.npz OUT.npz \
        [--model-filename NAME] [--params-filename NAME]

Loads DIRNAME the way Fluid's ``load_inference_model`` did
(``paddle.distributed.io.load_inference_model_distributed``), feeds the arrays of FEEDS.npz by name,
and writes OUT.npz with ``fetch_<i>`` = the i-th fetch target's value, plus ``feed_target_names`` and
``fetch_target_names``.  Imports only paddle, numpy and the standard library.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _paddle_kit as kit  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirname")
    parser.add_argument("feeds")
    parser.add_argument("out")
    parser.add_argument("--model-filename")
    parser.add_argument("--params-filename")
    args = parser.parse_args(argv)
    feeds = dict(np.load(args.feeds))
    with kit.fresh() as (_main, _startup, _scope, exe):
        program, feed_names, fetch_targets = kit.dist_io.load_inference_model_distributed(
            args.dirname, exe, model_filename=args.model_filename,
            params_filename=args.params_filename)
        outputs = exe.run(program, feed=feeds, fetch_list=fetch_targets)
    result = {f"fetch_{i}": np.asarray(v) for i, v in enumerate(outputs)}
    result["feed_target_names"] = np.array(list(feed_names))
    result["fetch_target_names"] = np.array([t.name for t in fetch_targets])
    np.savez(args.out, **result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
