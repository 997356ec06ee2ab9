"""Pixel spacing, from the DICOM header to every later geometry.

Mammograms state their spacing as Pixel Spacing (0028,0030), calibrated, or Imager Pixel Spacing
(0018,1164), at the detector (what most FFDM headers carry). The conversion's crop, resize and pad
changes it per axis, so every product records its own spacing (mm per pixel, row then column) beside
where the number came from.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from mame.data.geometry import Geometry

SPACING_TAGS = ("PixelSpacing", "ImagerPixelSpacing")  # preferred first


def header_spacing(ds: Dataset) -> tuple[float, float, str] | None:
    """(row mm, column mm, tag name) from the first spacing tag the header holds with two positive
    values; None when it holds none (a secondary capture, an anonymiser that stripped it)."""
    for tag in SPACING_TAGS:
        value = ds.get(tag)
        if value is None:
            continue
        try:
            row, column = (float(v) for v in value)
        except (TypeError, ValueError):
            continue
        if row > 0 and column > 0:
            return row, column, tag
    return None


def canvas_spacing(raw: tuple[float, float], geometry: Geometry) -> tuple[float, float]:
    """mm per canvas pixel (row, column) after the geometry's crop and resize (padding keeps it)."""
    x0, y0, x1, y1 = geometry.crop
    width, height = geometry.resized
    return raw[0] * (y1 - y0) / height, raw[1] * (x1 - x0) / width
