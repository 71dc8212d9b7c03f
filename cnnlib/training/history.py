"""An append-only series read up to a length: a copy of a run's progress costs O(1), however long the run.

    costs = History()          # the live series, appended to under the registry's lock
    costs.append(2.3)
    seen = costs.view()        # O(1): the same list, read up to its length now
    costs.append(1.9)
    list(seen) == [2.3]        # the view never sees what came after it

Items are only ever appended, never changed or removed, so the items below a view's length stay as they were: a
view taken under a lock can be read after the lock is released, while the trainer's thread appends more.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import overload

import numpy as np


class History(Sequence[float]):
    """An append-only list of numbers, or a view of one that stops at the length it had when the view was taken."""

    __slots__ = ("_items", "_length", "_live")

    def __init__(self, items: Iterable[float] = ()) -> None:
        self._items: list[float] = list(items)
        self._length, self._live = len(self._items), True

    @classmethod
    def _of(cls, items: list[float], length: int) -> History:
        """A read-only view of the first ``length`` of ``items`` (shared, not copied)."""
        view = cls.__new__(cls)
        view._items, view._length, view._live = items, length, False
        return view

    def append(self, value: float) -> None:
        """Add ``value`` at the end (the live series only: a view never changes)."""
        if not self._live:
            raise TypeError("a History view is read-only")
        self._items.append(value)
        self._length += 1

    def view(self) -> History:
        """The series as it is now, in O(1): later appends do not show in it."""
        return History._of(self._items, self._length)

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> float: ...

    @overload
    def __getitem__(self, index: slice) -> list[float]: ...

    def __getitem__(self, index: int | slice) -> float | list[float]:
        if isinstance(index, slice):
            return [self._items[i] for i in range(*index.indices(self._length))]
        if not -self._length <= index < self._length:
            raise IndexError("History index out of range")
        return self._items[index % self._length]

    def __iter__(self) -> Iterator[float]:
        return islice(self._items, self._length)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (History, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to a list, so unhashable like one

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self._items[:self._length], dtype=dtype)

    def __repr__(self) -> str:
        return f"History({self._items[:self._length]!r})"


def as_history(values: Sequence[float] | None) -> History:
    """``values`` as a live History: a History itself is kept, a list (a test's, a constructor's) is copied."""
    return values if isinstance(values, History) else History(values or ())
