"""Keep the garbage collector away from the modules a server has imported.

TensorFlow, Keras and Plotly leave about 475,000 Python objects that live as long as the process. After every rerun
Streamlit runs a full collection, and so does ``keras.backend.clear_session()``, which Streamlit also calls: each
walks all of them, about 250 ms on this 2-core machine, so two collections per stroke made the server, which runs
Python on one core at a time, the bottleneck of a class drawing at once. ``gc.freeze()`` moves the objects alive now
into a generation that collections skip; freezing once more whenever modules were imported keeps the imported
objects out of every later collection. The learners' own objects (sessions, models read) stay collectable.
"""

from __future__ import annotations

import gc
import sys
import threading

_lock = threading.Lock()
_frozen_modules: set[str] = set()  # the modules imported when the heap was last frozen


def freeze_imported_objects() -> bool:
    """If modules were imported since the last call: collect the garbage, then freeze every object alive, so later
    collections skip it. True when it froze (a full collection, once per new set of imports)."""
    with _lock:
        if sys.modules.keys() <= _frozen_modules:
            return False
        gc.collect()
        gc.freeze()
        _frozen_modules.update(sys.modules)
        return True
