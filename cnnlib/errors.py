"""The app's one refusal: input it will not take, carrying a catalogue key and its values, worded where it is shown.

A refusal is raised with words to look up, not words: ``Refusal("draw.error.padding", padding="FULL")``. The
sentence is made when it is shown (``str(error)`` reads the learner's language then), so a cache that outlives a
request (a model read for one learner, shown to another in Korean) keeps the refusal, not its English. Pages catch
``Refusal`` and nothing else from ``cnnlib``: any other exception is a bug, logged on the server.
"""

from __future__ import annotations

from cnnlib.text import t


class Refusal(ValueError):
    """Input the app refuses, with the catalogue key of the sentence that says why and that sentence's values."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values

    def __str__(self) -> str:
        return t(self.key, **self.values)

    def __repr__(self) -> str:
        return f"Refusal({self.key!r}, {self.values!r})"
