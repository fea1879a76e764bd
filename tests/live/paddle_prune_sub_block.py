"""Run inside a Paddle venv: what Paddle's inference pruning keeps of a conditional_block whose
sub-block reads variables its ``Input`` slot does not list (INF-SAVE-002's sub-block rule).

Prints one JSON object: the ops of the pruned global block and its variables.  Works on Paddle
2.6.2 and on 3.3.1 with ``FLAGS_enable_pir_api=0`` (set here before the import).
"""

import json
import os

os.environ.setdefault("FLAGS_enable_pir_api", "0")

import paddle  # noqa: E402

paddle.enable_static()
program = paddle.static.Program()
with paddle.static.program_guard(program, paddle.static.Program()):
    block = program.global_block()
    x, h, mid, h2, y = (block.create_var(name=n, shape=[-1, 2], dtype="float32")
                        for n in ("x", "h", "mid", "h2", "y"))
    w1 = block.create_parameter(name="p.w1", shape=[2], dtype="float32")
    w2 = block.create_parameter(name="p.w2", shape=[2], dtype="float32")
    scopes = block.create_var(name="cb_scope",
                              type=paddle.framework.core.VarDesc.VarType.STEP_SCOPES)
    block.append_op(type="elementwise_add", inputs={"X": [x], "Y": [w1]}, outputs={"Out": [h]})
    block.append_op(type="scale", inputs={"X": [h]}, outputs={"Out": [mid]}, attrs={"scale": 3.0})
    block.append_op(type="scale", inputs={"X": [mid]}, outputs={"Out": [h2]},
                    attrs={"scale": 2.0})
    sub = program._create_block(parent_idx=0)
    sub.append_op(type="elementwise_add", inputs={"X": [h2], "Y": [w2]}, outputs={"Out": [y]})
    program._rollback()
    block.append_op(type="conditional_block", inputs={"Cond": [mid], "Input": [mid]},
                    outputs={"Out": [y], "Scope": [scopes]},
                    attrs={"sub_block": sub, "is_scalar_condition": False})
pruned = program._prune_with_input(["mid"], [y])
print(json.dumps({"ops": [op.type for op in pruned.global_block().ops],
                  "vars": sorted(pruned.global_block().vars)}))
