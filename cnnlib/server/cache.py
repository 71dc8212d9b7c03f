"""Server-wide caches bounded in bytes, not entries: once the entries' sizes add up past the bound, the least
recently used go first.

    models = ByteCache(512 * 2**20)
    model = models.get(("model", path, modified), lambda: load_model(path), size=weights_bytes)
    models.peek(key); models.put(key, value, size)   # read without making; replace what a key holds

    @cached_in(models, size=weights_bytes)     # the same as a decorator: the function's name and arguments are the key
    def cached_model(path: str, modified: float): ...

Each entry's size is measured once, when it is made; an entry larger than the whole bound is handed out but not
kept. Making happens outside the cache's lock and once per key at a time: a second caller of the same key waits for
the first (two sessions opening one model load it once), callers of other keys do not wait. A value that raises is
not kept. Sizes are the caller's estimate of what an entry holds (arrays' ``nbytes``, a network's weights).
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class ByteCache:
    """Values by key, least recently used first out, their sizes together at most ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._makers: dict[Hashable, tuple[threading.Lock, int]] = {}  # a lock per key being made, and its callers

    def __repr__(self) -> str:
        return f"ByteCache({len(self)} entries, {self.bytes:,} of {self.max_bytes:,} bytes)"

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def bytes(self) -> int:
        """The sizes of the entries kept now, added up."""
        with self._lock:
            return self._bytes

    def get(self, key: Hashable, make: Callable[[], T], size: Callable[[T], int]) -> T:
        """The value kept under ``key``, else ``make()``'s, kept with ``size(value)`` bytes when it fits."""
        with self._making(key):
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key][0]
            value = make()
            self._keep(key, value, max(0, int(size(value))))
            return value

    def peek(self, key: Hashable) -> object | None:
        """The value kept under ``key`` (now the most recently used), or None; nothing is made."""
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key][0]

    def put(self, key: Hashable, value: object, size: int) -> None:
        """Keep ``value`` under ``key`` with ``size`` bytes, in place of what was kept there."""
        with self._lock:
            if (old := self._entries.pop(key, None)) is not None:
                self._bytes -= old[1]
        self._keep(key, value, max(0, int(size)))

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _keep(self, key: Hashable, value: object, size: int) -> None:
        """Keep ``value`` unless it alone is over the bound; drop the least recently used until all fit."""
        if size > self.max_bytes:
            return
        with self._lock:
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    @contextmanager
    def _making(self, key: Hashable) -> Iterator[None]:
        """Hold ``key``'s own lock (made for its first caller, forgotten after its last)."""
        with self._lock:
            lock, callers = self._makers.get(key, (threading.Lock(), 0))
            self._makers[key] = (lock, callers + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, callers = self._makers[key]
                if callers == 1:
                    del self._makers[key]
                else:
                    self._makers[key] = (lock, callers - 1)


def cached_in(cache: ByteCache, size: Callable[[T], int]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """A decorator: the function's results kept in ``cache``, keyed by its name and its (hashable) arguments."""
    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        """``function`` with its results kept in ``cache``."""
        @functools.wraps(function)
        def cached(*args: Hashable) -> T:
            """``function(*args)``, made once while it stays in the cache."""
            return cache.get((function.__qualname__, *args), lambda: function(*args), size)
        return cached
    return decorate
