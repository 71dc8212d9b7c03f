"""What a learner reads when something fails: a refusal's sentence, a file's trouble without the server's folders, or,
for anything else (a bug), one sentence with a short reference that the server's log holds with the traceback.

    with explained_errors(within="common.mnist_failed"):   # a block of a page
        data_panel(cached_mnist())

    @st.fragment
    @explained_errors()                                     # a panel (a fragment reruns on its own: wrap it too)
    def occlusion_panel(...): ...

A panel that fails shows its sentence where it stood and returns None; the rest of the page still shows. ``st.stop``,
``st.rerun`` and ``st.switch_page`` pass through (Streamlit raises them as BaseException, never caught here).
"""

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from cnnlib.errors import Refusal
from cnnlib.store.files import without_folders
from cnnlib.text import t

BUG_KEY = "common.error.bug"  # "… this reference: {reference}"
FILES_KEY = "common.error.file"  # a file the server could not read or write: "… ({reason}) …"
logger = logging.getLogger(__name__)


def explanation(error: Exception, within: str | None = None, files: str = FILES_KEY) -> str:
    """The sentence a learner reads about ``error``.

    A ``Refusal`` says why in its own words; an ``OSError`` gives its reason with every folder taken out, in the
    sentence of ``files``. With ``within`` (a catalogue key with ``{reason}``) both go inside that sentence instead.
    Anything else is a bug: logged here with its traceback under a new 6-hex-digit reference, which the sentence
    names, so that the learner never reads a stack trace or a library's message.
    """
    if isinstance(error, Refusal):
        return t(within, reason=str(error)) if within else str(error)
    if isinstance(error, OSError):
        return t(within or files, reason=without_folders(str(error) or type(error).__name__))
    reference = secrets.token_hex(3)
    logger.exception("Unexpected error shown to a learner as reference %s", reference, exc_info=error)
    return t(BUG_KEY, reference=reference)


@contextmanager
def explained_errors(where=st, within: str | None = None) -> Iterator[None]:
    """Run a block or (as a decorator) a panel; show what stops it as ``explanation`` words it, in ``where``."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 (every failure gets a sentence; a bug is logged in explanation)
        where.error(explanation(error, within), icon=":material/error:")
