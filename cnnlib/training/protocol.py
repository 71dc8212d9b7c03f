"""The pipe between the server and a trainer process: JSON events out, one per line; ``stop`` in.

    emit = JsonLinesEmitter(sys.stdout)       # the child prints each event as one JSON line
    stop_requested = stop_on_request(sys.stdin)   # set when ``stop`` arrives or the server goes away
    parse_event(line)                         # the server reads a line back: a dict, or None for stray output
"""

from __future__ import annotations

import json
import threading
import time
from typing import IO

from cnnlib.training.progress import Event

STOP_LINE = "stop"
EVENT_FLUSH_INTERVAL_S = 0.1


class JsonLinesEmitter:
    """Writes each event as one JSON line; batch events are flushed at most every 0.1 s, the rest at once."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream, self.last_flush = stream, 0.0

    def __call__(self, event: dict) -> None:
        self.stream.write(json.dumps(event) + "\n")
        now = time.monotonic()
        if event["event"] != Event.BATCH or now - self.last_flush >= EVENT_FLUSH_INTERVAL_S:
            self.stream.flush()
            self.last_flush = now


def stop_on_request(stream: IO[str]) -> threading.Event:
    """An Event that is set when ``stop`` arrives on ``stream`` or the stream ends (the server went away)."""
    requested = threading.Event()

    def listen() -> None:
        for line in stream:
            if line.strip() == STOP_LINE:
                break
        requested.set()

    threading.Thread(target=listen, name="train-stop-listener", daemon=True).start()
    return requested


def parse_event(line: str) -> dict | None:
    """One JSON event from a line of the child's output; None for anything else (a library's stray print)."""
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None
