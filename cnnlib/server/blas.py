"""numpy's BLAS on one thread for the small products of one digit (a conv, a dense layer, an image's grey levels).

OpenBLAS splits even a 1x3136 by 3136x256 product across threads. Alone on a machine that costs nothing, but on a
busy one (a training in the next process, other learners) each split waits for a free core: reading a trained
network took 15-50 ms median and 60-190 ms p95 here, against under 1 ms on one thread.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    """The thread pools of the libraries loaded in this process, found once (finding them takes milliseconds)."""
    return ThreadpoolController()


def one_thread() -> AbstractContextManager:
    """``with one_thread():`` runs BLAS on one thread inside the block (process-wide while it lasts; ~15 µs)."""
    return _controller().limit(limits=1, user_api="blas")
