"""``reference.files``: the file layer of ``reference.io``, for callers that time or test it
without a Program (the benchmarks of ``fluidspec bench``).

* ``atomic_write(path, buffers)`` — the buffers, in order, into a temporary beside ``path``,
  then an atomic replace (SEL-SAVE-008).
* ``read_bytes(path)`` — the whole file as a ``memoryview`` (MISSING_FILE when absent,
  SEL-LOAD-001).
"""

from fluidspec.reference._files import atomic_write, read_bytes

__all__ = ["atomic_write", "read_bytes"]
