"""PIL's limits for the whole server process, set once when this module is imported (``cnnlib.mnist.preprocess``
imports it, and every page that reads a picture goes through that module).

PIL decodes a picture whatever its size unless told otherwise: its own default warns at 89 megapixels and refuses
only above 179, so a few hundred kilobytes of PNG declaring 13,000x13,000 pixels became a 676 MB RGBA array. Here
PIL warns above ``MAX_PICTURE_PIXELS`` and refuses above twice that (``Image.DecompressionBombError``), in any code
that decodes a picture in this process, ours or a library's. The app's own readers (``cnnlib.mnist.preprocess``)
read a picture's size from its header and refuse it before anything is decoded: the Draw page's canvas unless it is
exactly 280x280 (a few hundred KB decoded), an uploaded photo above ``MAX_PICTURE_PIXELS``.
"""

from __future__ import annotations

from PIL import Image, PngImagePlugin

MAX_PICTURE_PIXELS = 40_000_000  # the largest photo of a digit the Draw page takes (phones take 12-24 megapixels)
MAX_PNG_TEXT_BYTES = 4 * 2**20  # a PNG's text chunks unpacked, in all (PIL's default, 64 MB, fits in a 512 KB file)

Image.MAX_IMAGE_PIXELS = MAX_PICTURE_PIXELS
PngImagePlugin.MAX_TEXT_MEMORY = MAX_PNG_TEXT_BYTES
