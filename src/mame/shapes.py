"""Image shapes: an integer side (square, the study's) or [height, width] (the detector's aspect ratio).

Every stage speaks (height, width); PIL speaks (width, height), so conversions happen here.
"""

from __future__ import annotations

from collections.abc import Sequence


def as_shape(size: int | Sequence[int]) -> tuple[int, int]:
    """An integer side or a [height, width] pair as (height, width)."""
    if isinstance(size, int) or (hasattr(size, "__int__") and not isinstance(size, Sequence)):
        return int(size), int(size)
    height, width = (int(v) for v in size)
    return height, width


def pil_size(size: int | Sequence[int]) -> tuple[int, int]:
    """The (width, height) PIL wants for a side or a [height, width] pair."""
    height, width = as_shape(size)
    return width, height


def scaled(size: int | Sequence[int], factor: float) -> tuple[int, int]:
    """(height, width) multiplied by factor (e.g. latent size x VAE factor), rounded down."""
    height, width = as_shape(size)
    return int(height * factor), int(width * factor)


def compact(height: int, width: int) -> int | tuple[int, int]:
    """A side when square, else (height, width): the form configs and diffusers use."""
    return height if height == width else (height, width)


def is_square(size: int | Sequence[int]) -> bool:
    height, width = as_shape(size)
    return height == width


def describe(size: int | Sequence[int]) -> str:
    height, width = as_shape(size)
    return f"{height} x {width}"


def parse_size(text: str) -> int | tuple[int, int]:
    """A command line's size: '512' (a side) or '640,512' / '640x512' (height, width)."""
    parts = [int(v) for v in text.replace("x", ",").split(",") if v.strip()]
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise ValueError(f"a size is one side or height,width; got {text!r}")


def size_flag(size: int | Sequence[int]) -> str:
    """The command-line form of a size (parse_size reads it back)."""
    return str(size) if isinstance(size, int) else ",".join(str(int(v)) for v in size)


# where a processed image came from, per manifest row (the conversion writes them; SDXL conditions on
# them): the detector image's height and width, and the crop's top-left corner scaled as the crop was
TIME_ID_COLUMNS = ("original_height", "original_width", "crop_top", "crop_left")
# the full-field product and the pixel spacing, per manifest row: mm per processed pixel (row, column),
# the header tag it came from, and the 16-bit full-field image (full_scale x the size; empty when off)
FULL_FIELD_COLUMNS = ("spacing_row_mm", "spacing_col_mm", "spacing_source", "full_image", "full_scale")
