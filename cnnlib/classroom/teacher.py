"""The teacher's key: the board opens only in classroom mode, for an address that carries the server's key.

``CNN_EXPLORER_TEACHER_KEY`` holds it (at least ``FEWEST_KEY_CHARACTERS``: a short key could be guessed through the
address bar); the teacher opens the app with ``?teacher=KEY``. Keys are compared as SHA-256 digests with
``hmac.compare_digest``, so the time a comparison takes says nothing about the key, its length included.

    check_teacher_key("…")    None, or a Refusal: no board on this server, a server key too short, a wrong key
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cnnlib.errors import Refusal
from cnnlib.store.workspace import classroom_mode

TEACHER_KEY_ENV = "CNN_EXPLORER_TEACHER_KEY"
FEWEST_KEY_CHARACTERS = 12
MOST_KEY_CHARACTERS = 256  # a longer ?teacher= is refused before it is hashed


def board_offered() -> bool:
    """Whether this server has a teacher's board: classroom mode with a teacher key set."""
    return classroom_mode() and bool(os.environ.get(TEACHER_KEY_ENV))


def _digest(key: str) -> bytes:
    """A key's SHA-256, the same length for every key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def check_teacher_key(given: object) -> None:
    """Nothing when ``given`` is the server's teacher key; else a Refusal that says why the board stays closed."""
    server_key = os.environ.get(TEACHER_KEY_ENV, "")
    if not board_offered():
        raise Refusal("classroom.teacher.no_board", variable=TEACHER_KEY_ENV)
    if len(server_key) < FEWEST_KEY_CHARACTERS:
        raise Refusal("classroom.teacher.short_server_key", variable=TEACHER_KEY_ENV, fewest=FEWEST_KEY_CHARACTERS)
    if (not isinstance(given, str) or len(given) > MOST_KEY_CHARACTERS
            or not hmac.compare_digest(_digest(given), _digest(server_key))):
        raise Refusal("classroom.teacher.wrong_key")


def is_teacher_key(given: object) -> bool:
    """Whether ``given`` opens the board."""
    try:
        check_teacher_key(given)
    except Refusal:
        return False
    return True
