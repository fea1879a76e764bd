"""fluidspec's independent fast implementation: numba CPU kernels and CUDA kernels for the tensor format.

Public modules: ``numba_kernels.arrays`` (encode/decode arrays), ``numba_kernels.io`` (the
eight save/load APIs), ``numba_kernels.files`` (their file layer, for benchmarks),
``numba_kernels.cuda`` (pack/unpack on the GPU, and what the APIs need of it) and
``numba_kernels.cpu`` (the CPU kernels, as the other modules use them).  ``warm_up()`` loads or
compiles every kernel ahead of use.  Benchmarks and the GPU check live in the CLI
(``fluidspec bench``, ``python -m fluidspec.cuda_check``), not here.

Two levels: ``cpu/`` and ``cuda/`` hold the kernels; the modules directly in ``numba_kernels/``
are the API layer on top, which uses both and reaches them only through their public names
(``cpu/__init__.py``, ``cuda/__init__.py``).  ``cuda`` uses ``cpu`` (the same plan, layout and
parse, so both paths agree on validity and bytes); ``cpu`` uses neither.  Below both sits
``_scalar``, the byte helpers that the CPU and the CUDA kernels compile from one source.

Module map — the private modules mirror ``reference``'s, so a reader can put one beside the other:

=================  =========================  =======================  ========================
reference          numba_kernels (API layer)  numba_kernels.cpu        numba_kernels.cuda
=================  =========================  =======================  ========================
``_codec`` encode  ``arrays``                 ``_encode`` (plan +      ``_encode``; kernels
                                              pack); kernels           ``_kernels``,
                                              ``_layout``,             ``_device``
                                              ``_headers``
``_codec`` decode  ``arrays``                 ``_decode``; kernel      ``_decode`` (host
                                              ``_parse``               parse, device unpack)
(scalar helpers)   ``_scalar`` (byte          ``_jit``, ``_dtypes``,   ``_launch``, ``_ptx``
                   helpers both targets       ``_gc``
                   compile)
``_files``         ``_files`` (+              ``_file_calls``: many    —
                   ``_separate``: one file    small files' system
                   per var; public face       calls, no Python per
                   ``files``)                 file
``_io``            ``_io`` (+ ``_selection``: —                        ``_io`` (values on the
                   which vars)                                         GPU)
``_inference``     ``_inference``             —                        —
``_scope``,        ``_fluid``: the caller's   —                        —
``_framework``,    objects by duck typing;
``_executor``      never imports
                   ``reference``
``_program_desc``  ``_inference`` (writes     —                        —
                   ``__model__`` itself)
(none)             ``_warm`` (``warm_up``)    —                        —
=================  =========================  =======================  ========================
"""

from fluidspec.numba_kernels._warm import warm_up

__all__ = ["warm_up"]
