"""The server's heap freeze: imported modules' objects leave the collector's work, once per new set of imports."""

import gc
import sys
import types
import weakref

from cnnlib.server.heap import freeze_imported_objects


def test_objects_alive_at_a_freeze_are_skipped_and_a_freeze_waits_for_new_imports():
    try:
        freeze_imported_objects()
        assert not freeze_imported_objects()  # nothing imported since: no second collection
        sys.modules["imported_meanwhile"] = types.ModuleType("imported_meanwhile")
        kept = [[] for _ in range(1000)]  # containers: the collector tracks them
        frozen_before = gc.get_freeze_count()
        assert freeze_imported_objects() and gc.get_freeze_count() >= frozen_before + len(kept)
        assert not freeze_imported_objects()
    finally:
        sys.modules.pop("imported_meanwhile", None)
        gc.unfreeze()


def test_garbage_is_collected_before_a_freeze_not_kept_for_good():
    class Cycle:
        """An object that refers to itself: only a collection frees it."""

    try:
        cycle = Cycle()
        cycle.me = cycle
        probe = weakref.ref(cycle)
        del cycle
        sys.modules["imported_later"] = types.ModuleType("imported_later")
        assert freeze_imported_objects() and probe() is None
    finally:
        sys.modules.pop("imported_later", None)
        gc.unfreeze()
