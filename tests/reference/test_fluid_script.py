"""A Fluid 1.x-style save/load script runs unchanged with ``from fluidspec import reference as fluid``.

The script below is written the way Fluid 1.x scripts were (program_guard, a startup program,
Executor.run, the fluid.io APIs, scope access through get_tensor()), using only the names the
issue lists.  It runs as a separate Python process, exactly as a user would run it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    '''
    import os
    import sys
    import warnings

    import numpy as np
    from fluidspec import reference as fluid

    save_dir = sys.argv[1]
    VarType = fluid.core.VarDesc.VarType

    main_program = fluid.Program()
    startup_program = fluid.Program()
    with fluid.program_guard(main_program, startup_program):
        block = fluid.default_main_program().global_block()
        x = block.create_var(name="x", shape=[-1, 4], dtype="float32", lod_level=1)
        w = block.create_parameter(name="fc.w_0", shape=[4, 2], dtype="float32")
        b = block.create_parameter(name="fc.b_0", shape=[2], dtype="float32")
        step = block.create_var(name="global_step", shape=[1], dtype="int64", persistable=True)
        hidden = block.create_var(name="fc.tmp_0", dtype="float32")
        y = block.create_var(name="fc.tmp_1", dtype="float32")
        out = block.create_var(name="relu.tmp_0", dtype="float32")
        block.append_op(type="mul", inputs={"X": [x], "Y": [w]}, outputs={"Out": [hidden]},
                        attrs={"x_num_col_dims": 1, "y_num_col_dims": 1})
        block.append_op(type="elementwise_add", inputs={"X": [hidden], "Y": [b]},
                        outputs={"Out": [y]}, attrs={"axis": 1})
        block.append_op(type="relu", inputs={"X": [y]}, outputs={"Out": [out]})

        startup = fluid.default_startup_program().global_block()
        for var, value in ((w, 0.25), (b, -0.5), (step, 7)):
            startup.create_var(name=var.name, shape=var.shape, dtype=var.dtype, persistable=True)
            startup.append_op(type="fill_constant", outputs={"Out": [var.name]},
                              attrs={"shape": list(var.shape), "dtype": var.dtype, "value": value})

    assert isinstance(w, fluid.framework.Parameter) and isinstance(w, fluid.framework.Variable)
    assert x.type == VarType.LOD_TENSOR and fluid.io.is_parameter(w) and not fluid.io.is_parameter(x)

    place = fluid.CPUPlace()
    exe = fluid.Executor(place)
    exe.run(startup_program)

    inference_program = main_program.clone(for_test=True)  # clone before adding training ops
    main_program.global_block().append_op(type="sgd", inputs={"Param": [w]},
                                          outputs={"ParamOut": [w]}, attrs={"op_role": 2})
    batch = np.arange(8, dtype="float32").reshape(2, 4)
    expected = np.maximum(batch @ np.full((4, 2), 0.25, "float32") - 0.5, 0)
    result, = exe.run(inference_program, feed={"x": batch}, fetch_list=[out])
    assert np.array_equal(result, expected), result

    w_tensor = fluid.global_scope().find_var("fc.w_0").get_tensor()
    w_tensor.set(np.array(w_tensor) * 2, place)

    fluid.io.save_params(exe, os.path.join(save_dir, "params"), main_program)
    fluid.io.save_persistables(exe, os.path.join(save_dir, "persistables"), main_program)
    fluid.io.save_persistables(exe, save_dir, main_program, filename="__params__")
    blob = fluid.io.save_vars(exe, None, main_program, vars=[w, b])
    assert sorted(os.listdir(os.path.join(save_dir, "params"))) == ["fc.b_0", "fc.w_0"]
    assert sorted(os.listdir(os.path.join(save_dir, "persistables"))) == [
        "fc.b_0", "fc.w_0", "global_step"]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert fluid.io.save_vars(exe, os.path.join(save_dir, "none"), main_program,
                                  predicate=lambda v: False) is None
    assert "no variable in your model" in str(caught[0].message)
    assert not os.path.exists(os.path.join(save_dir, "none"))

    for how in ("params", "persistables", "combined", "memory"):
        scope = fluid.Scope()
        with fluid.scope_guard(scope):
            if how == "params":
                fluid.io.load_params(exe, os.path.join(save_dir, "params"), main_program)
            elif how == "persistables":
                fluid.io.load_persistables(exe, os.path.join(save_dir, "persistables"),
                                           main_program)
            elif how == "combined":
                fluid.io.load_persistables(exe, save_dir, main_program, filename="__params__")
            else:
                fluid.io.load_vars(exe, None, main_program, vars=[w, b], filename=blob)
            loaded = np.array(fluid.global_scope().find_var("fc.w_0").get_tensor())
            assert np.array_equal(loaded, np.full((4, 2), 0.5, "float32")), how

    seq = fluid.global_scope().var("x").get_tensor()
    seq.set(np.ones((3, 4), "float32"), place)
    seq.set_lod([[0, 1, 3]])
    fluid.io.save_vars(exe, os.path.join(save_dir, "seq"), main_program, vars=[x])
    with fluid.scope_guard(fluid.Scope()):
        fluid.io.load_vars(exe, os.path.join(save_dir, "seq"), main_program, vars=[x])
        assert fluid.global_scope().find_var("x").get_tensor().lod() == [[0, 1, 3]]

    model_dir = os.path.join(save_dir, "inference")
    fluid.io.save_inference_model(model_dir, ["x"], [out], exe, main_program)
    with fluid.scope_guard(fluid.Scope()):
        [program, feed_names, fetch_targets] = fluid.io.load_inference_model(model_dir, exe)
        result, = exe.run(program, feed={feed_names[0]: batch}, fetch_list=fetch_targets)
    assert feed_names == ["x"] and fetch_targets[0].name == "relu.tmp_0"
    assert np.array_equal(result, np.maximum(batch @ np.full((4, 2), 0.5, "float32") - 0.5, 0))

    copy = fluid.Program.parse_from_string(main_program.desc.serialize_to_string())
    assert [v.name for v in copy.list_vars()] == [v.name for v in main_program.list_vars()]
    print("fluid script OK")
    '''
)


def test_fluid_style_script_runs_unchanged(tmp_path):  # API-*, SEL-*, INF-*
    script = tmp_path / "fluid_script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "out")], cwd=tmp_path,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "fluid script OK"
