"""fluidspec's independent fast implementation: numba CPU kernels and CUDA kernels for the tensor format.

Public modules: ``numba_kernels.arrays`` (encode/decode arrays), ``numba_kernels.io`` (the
eight save/load APIs), ``numba_kernels.cuda`` (pack/unpack on the GPU) and
``numba_kernels.cuda_check`` (the GPU byte check).  ``warm_up()`` loads or compiles every kernel
ahead of use.  Benchmarks live in the CLI (``fluidspec bench``), not here.

Module map — the private modules mirror ``reference``'s, so a reader can put one beside the other:

==================  =============================================  ==============================
reference           numba_kernels.cpu                              numba_kernels.cuda
==================  =============================================  ==============================
``_codec`` encode   ``_encode`` (plan + pack); kernels ``_layout``,  ``_encode``; kernels
                    ``_headers``                                   ``_kernels``, ``_device``
``_codec`` decode   ``_decode``; kernel ``_parse``                 ``_decode`` (host parse,
                                                                   device unpack)
(scalar helpers)    ``_scalar``, ``_jit``, ``_dtypes``, ``_gc``     ``_launch``, ``_ptx``
``_files``          ``_files`` (+ ``_separate``: one file per var)  —
``_io``             ``_io`` (+ ``_selection``: which vars)          ``_io`` (values on the GPU)
``_inference``      ``_inference``                                 —
``_scope``,         none: numba works on the caller's objects by    —
``_framework``,     duck typing (see ``cpu._io``) and never imports
``_executor``       ``reference``
``_program_desc``   ``_inference`` (writes ``__model__`` itself)    —
==================  =============================================  ==============================
"""

from fluidspec.numba_kernels._warm import warm_up

__all__ = ["warm_up"]
