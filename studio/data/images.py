"""Opening one image file for training or prediction, safely and with the right colours.

* Only a regular file of at most MAX_IMAGE_BYTES is read (files.read_regular),
  so a FIFO or /dev/zero named like an image never blocks.
* Pillow's DecompressionBombWarning is made an error: an image of more than
  Image.MAX_IMAGE_PIXELS pixels is refused instead of printing a warning line
  and allocating gigabytes.
* 16-bit and 32-bit greyscale images (PNG "I;16", "I", float "F") are scaled to
  8 bits. Pillow's own convert("RGB") clips them at 255, so a 16-bit PNG would
  become white.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from studio.data.files import MB, read_regular

MAX_IMAGE_BYTES = 256 * MB


def open_image(path: Path | str) -> Image.Image:
    """The image in `path`, opened from memory (lazy decode, like Image.open).
    DataError for a file that is not a regular file or is too large; Pillow's
    own errors (UnidentifiedImageError, OSError, DecompressionBombError) otherwise."""
    data = read_regular(path, MAX_IMAGE_BYTES)
    # Pillow warns (once, on stderr) above MAX_IMAGE_PIXELS and raises only above twice that;
    # its size check runs in open(), so a warning recorded here becomes the error.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", Image.DecompressionBombWarning)
        im = Image.open(io.BytesIO(data))
    for w in caught:
        if issubclass(w.category, Image.DecompressionBombWarning):
            im.close()
            raise Image.DecompressionBombError(f"{path}: {w.message}")
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return im


def _eight_bit(im: Image.Image) -> Image.Image:
    """Wide greyscale → 8-bit "L", scaled by the range of its type, not clipped."""
    a = np.asarray(im)
    if im.mode == "F":
        a = np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        scale = 255.0 if a.size and 0.0 <= a.min() and a.max() <= 1.0 else 1.0
        return Image.fromarray(np.clip(np.rint(a * scale), 0, 255).astype(np.uint8), "L")
    wide = np.clip(a.astype(np.int64), 0, 65535)   # I;16* are 0..65535; I holds 16-bit PNGs too
    return Image.fromarray(((wide + 128) // 257).astype(np.uint8), "L")


def to_mode(im: Image.Image, mode: str) -> Image.Image:
    """A decoded copy of `im` as 8-bit "RGB" or "L" (usable after the file is closed)."""
    if im.mode.startswith("I") or im.mode == "F":
        im = _eight_bit(im)
    elif im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")   # as Pillow asks; converting P straight to RGB warns on stderr
    return im.convert(mode)
