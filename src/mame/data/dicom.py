"""DICOM pixels to display intensities, with the whole chain folded into one lookup table.

Order (DICOM PS3.3 C.11): modality LUT (rescale or sequence) -> VOI (VOI LUT Sequence preferred,
else Window Center/Width with LINEAR, LINEAR_EXACT or SIGMOID) -> invert MONOCHROME1 -> scale to
the output bit depth. Every step maps a stored value to a value, so the chain is evaluated once
over all possible stored values and applied to the image with a single table look-up; that is what
makes a 3328x2560 image cost milliseconds instead of a chain of float passes over 8.5 M pixels.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from mame.data.rejections import Rejection

INTENSITY_MODES = ("voi", "fixed_max")
JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"
WINDOW_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")
NATIVE_SYNTAXES = {
    "1.2.840.10008.1.2",  # implicit VR little endian
    "1.2.840.10008.1.2.1",  # explicit VR little endian
    "1.2.840.10008.1.2.2",  # explicit VR big endian
}


@dataclass(frozen=True)
class IntensitySettings:
    """How stored values become output values.

    mode "voi": the image's own VOI transform spans the output range (our default).
    mode "fixed_max": the study's choice; the VOI output (pydicom's range convention) is divided by
    a fixed per-dataset maximum (4095 for OMI-H, 3500 for VinDr) and clipped.
    """

    mode: str = "voi"
    bit_depth: int = 8
    fixed_max: float | None = None
    prefer_voi_sequence: bool = True

    def __post_init__(self) -> None:
        if self.mode not in INTENSITY_MODES:
            raise ValueError(f"intensity mode {self.mode!r} unknown; expected one of {INTENSITY_MODES}")
        if self.bit_depth not in (8, 16):
            raise ValueError(f"bit_depth must be 8 or 16, got {self.bit_depth}")
        if self.mode == "fixed_max" and not (self.fixed_max and self.fixed_max > 0):
            raise ValueError("intensity mode 'fixed_max' needs a positive fixed_max")


def read_header(path: str | os.PathLike, pixel_extent: bool = False) -> Dataset:
    """Read a DICOM header without pixel values; raise Rejection('unreadable') for anything else.

    With `pixel_extent` the Pixel Data element is kept as a deferred entry (its position and length,
    not its bytes) so `check_pixel_data_complete` needs no second parse; a file whose header reads
    but whose encapsulated pixel items break off is rejected as truncated.
    """
    try:
        if pixel_extent:
            return pydicom.dcmread(path, defer_size=1024)
        return pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as err:
        detail = f"{type(err).__name__}: {err}"
    if pixel_extent:
        read_header(path)  # raises 'unreadable' when even the header is broken
        raise Rejection("truncated", detail)
    raise Rejection("unreadable", detail)


def check_pixel_data_complete(ds: Dataset, path: str | os.PathLike) -> None:
    """Raise Rejection('truncated'/'no_pixel_data') for a header read with `pixel_extent=True`.

    The deferred Pixel Data element records where the pixels start and how long they claim to be;
    a file shorter than that end was cut off in transfer.
    """
    if "PixelData" not in ds:
        raise Rejection("no_pixel_data")
    raw = ds.get_item("PixelData", keep_deferred=True)
    length = getattr(raw, "length", None)
    tell = getattr(raw, "value_tell", None)
    if length is None or tell is None or length == 0xFFFFFFFF:
        return  # encapsulated: its items were parsed while reading, truncation raised there
    size = os.path.getsize(path)
    if tell + length > size:
        raise Rejection("truncated", f"pixel data ends at byte {tell + length}, file has {size}")


def _first(value) -> float:
    """Window Center/Width may be multi-valued (several presets); the first is the default."""
    if isinstance(value, pydicom.multival.MultiValue | list | tuple):
        value = value[0]
    return float(value)


def stored_values(ds: Dataset) -> np.ndarray:
    """Every value a pixel can hold, in the order a uint container indexes them.

    For signed data the table is laid out in two's-complement order, so the pixel array viewed as
    unsigned indexes it directly.
    """
    bits_allocated = int(ds.BitsAllocated)
    if bits_allocated > 16:
        raise Rejection("unsupported_transfer_syntax", f"BitsAllocated {bits_allocated} > 16")
    container = np.arange(2**bits_allocated, dtype=np.int64)
    if int(getattr(ds, "PixelRepresentation", 0)) == 1:
        container = np.where(container >= 2 ** (bits_allocated - 1), container - 2**bits_allocated, container)
    bits_stored = int(getattr(ds, "BitsStored", bits_allocated))
    if int(getattr(ds, "PixelRepresentation", 0)) == 1:
        lo, hi = -(2 ** (bits_stored - 1)), 2 ** (bits_stored - 1) - 1
    else:
        lo, hi = 0, 2**bits_stored - 1
    return np.clip(container, lo, hi)  # bits above BitsStored are not image data


def _lut_lookup(values: np.ndarray, descriptor, data) -> np.ndarray:
    entries, first = int(descriptor[0]) or 65536, int(descriptor[1])
    table = np.asarray(data, dtype=np.float64)[:entries]
    index = np.clip(np.round(values).astype(np.int64) - first, 0, len(table) - 1)
    return table[index]


def modality_transform(values: np.ndarray, ds: Dataset) -> np.ndarray:
    """Stored values -> modality values (Modality LUT Sequence, else rescale slope/intercept)."""
    if "ModalityLUTSequence" in ds and len(ds.ModalityLUTSequence):
        item = ds.ModalityLUTSequence[0]
        return _lut_lookup(values, item.LUTDescriptor, _lut_data(item))
    slope = float(getattr(ds, "RescaleSlope", 1.0) or 1.0)
    intercept = float(getattr(ds, "RescaleIntercept", 0.0) or 0.0)
    return values.astype(np.float64) * slope + intercept


def _lut_data(item: Dataset) -> np.ndarray:
    data = item.LUTData
    if isinstance(data, bytes | bytearray):
        # entries are 16-bit words whatever the descriptor's bit count; a few writers pack 8-bit bytes
        entries = int(item.LUTDescriptor[0]) or 65536
        return np.frombuffer(data, dtype="u1" if len(data) == entries else "<u2")
    return np.asarray(data)


def window(values: np.ndarray, center: float, width: float, function: str = "LINEAR") -> np.ndarray:
    """Window Center/Width as DICOM PS3.3 C.11.2.1.2 defines it, returning values in [0, 1]."""
    function = (function or "LINEAR").upper()
    if function == "LINEAR":
        if width < 1:
            raise ValueError(f"LINEAR window width must be >= 1, got {width}")
        y = (values - (center - 0.5)) / (width - 1) + 0.5 if width > 1 else (values > center - 0.5) * 1.0
        return np.clip(y, 0.0, 1.0)
    if function == "LINEAR_EXACT":
        if width <= 0:
            raise ValueError(f"LINEAR_EXACT window width must be > 0, got {width}")
        return np.clip((values - center) / width + 0.5, 0.0, 1.0)
    if function == "SIGMOID":
        if width <= 0:
            raise ValueError(f"SIGMOID window width must be > 0, got {width}")
        return 1.0 / (1.0 + np.exp(-4.0 * (values - center) / width))
    raise ValueError(f"VOI LUT Function {function!r} unknown; expected one of {WINDOW_FUNCTIONS}")


def voi_transform(
    values: np.ndarray, ds: Dataset, settings: IntensitySettings, image_range: tuple[float, float] | None
) -> np.ndarray:
    """Modality values -> [0, 1] (mode voi) or -> clipped value / fixed_max (mode fixed_max)."""
    bits_stored = int(getattr(ds, "BitsStored", ds.BitsAllocated))
    has_sequence = "VOILUTSequence" in ds and len(ds.VOILUTSequence)
    has_window = "WindowCenter" in ds and "WindowWidth" in ds
    if has_sequence and (settings.prefer_voi_sequence or not has_window):
        item = ds.VOILUTSequence[0]
        table = _lut_data(item)
        out_max = float(2 ** int(item.LUTDescriptor[2]) - 1)
        if table.max() > out_max:  # descriptors in the wild sometimes understate the bit depth
            out_max = float(2 ** int(table.max()).bit_length() - 1)
        y = _lut_lookup(values, item.LUTDescriptor, table)
        scaled, full = y, out_max
    elif has_window:
        function = str(getattr(ds, "VOILUTFunction", "LINEAR") or "LINEAR")
        unit = window(values, _first(ds.WindowCenter), _first(ds.WindowWidth), function)
        full = float(2**bits_stored - 1)  # pydicom's output range for windowing: the stored range
        scaled = unit * full
    else:
        lo, hi = image_range if image_range is not None else (values.min(), values.max())
        unit = np.clip((values - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
        full = float(2**bits_stored - 1)
        scaled = unit * full
    if settings.mode == "voi":
        return scaled / full
    return np.clip(scaled / float(settings.fixed_max), 0.0, 1.0)


def intensity_lut(ds: Dataset, settings: IntensitySettings, pixels: np.ndarray | None = None) -> np.ndarray:
    """The whole intensity chain as a table indexed by the stored (unsigned-viewed) pixel value.

    `pixels` is needed only when the header has no VOI at all (min/max of the image is used then).
    Returns uint8 or uint16 per `settings.bit_depth`.
    """
    values = modality_transform(stored_values(ds), ds)
    image_range = None
    has_voi = "VOILUTSequence" in ds or ("WindowCenter" in ds and "WindowWidth" in ds)
    if not has_voi and pixels is not None:
        present = np.unique(pixels.view(f"u{pixels.dtype.itemsize}"))
        image_range = (float(values[present].min()), float(values[present].max()))
    unit = voi_transform(values, ds, settings, image_range)
    if displays_inverted(ds):
        unit = 1.0 - unit
    top = 2**settings.bit_depth - 1
    return np.round(unit * top).astype(np.uint8 if settings.bit_depth == 8 else np.uint16)


def displays_inverted(ds: Dataset) -> bool:
    """Whether low values display white: MONOCHROME1, or Presentation LUT Shape INVERSE.

    The mammography IOD pairs INVERSE with MONOCHROME1 (both say the same thing, so it is applied once);
    some writers put INVERSE on MONOCHROME2 data instead, and that must invert too."""
    photometric = str(ds.PhotometricInterpretation).strip().upper()
    shape = str(getattr(ds, "PresentationLUTShape", "") or "").strip().upper()
    return photometric == "MONOCHROME1" or shape == "INVERSE"


def _one_line(err: BaseException) -> str:
    """An exception as one line: pydicom lists every plugin's reason on its own line."""
    return " ".join(f"{type(err).__name__}: {err}".split())[:400]


@contextmanager
def _native_stderr_silenced():
    """C libraries (GDCM) print notices straight to file descriptor 2; keep them out of the logs."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def gdcm_pixels(ds: Dataset) -> np.ndarray | None:
    """Stored values decoded by GDCM itself, or None when GDCM is absent or cannot read the file.

    pydicom's GDCM plugin refuses 12-bit JPEG Extended (1.2.840.10008.1.2.4.51) up front although GDCM
    decodes it (its 8-bit decoder fails, then its 12-bit decoder succeeds): mammography archives hold
    such files, so they go to GDCM directly."""
    try:
        import gdcm
    except ImportError:
        return None
    path = getattr(ds, "filename", None)
    if not isinstance(path, str | os.PathLike) or not Path(path).exists():
        return None
    reader = gdcm.ImageReader()
    reader.SetFileName(str(path))
    with _native_stderr_silenced():
        if not reader.Read():
            return None
        image = reader.GetImage()
        raw = image.GetBuffer().encode("utf-8", "surrogateescape")
    pixel_format = image.GetPixelFormat()
    if pixel_format.GetSamplesPerPixel() != 1:
        return None
    kind = "i" if pixel_format.GetPixelRepresentation() else "u"
    dtype = np.dtype(f"<{kind}{pixel_format.GetBitsAllocated() // 8}")
    columns, rows = image.GetDimension(0), image.GetDimension(1)
    values = np.frombuffer(raw, dtype=dtype)
    return values[: rows * columns].reshape(rows, columns) if values.size >= rows * columns else None


def decode_pixels(ds: Dataset) -> np.ndarray:
    """Stored pixel values as an unsigned array of the container width (signed data reinterpreted).

    Decoders: pydicom's plugins (pylibjpeg-openjpeg: JPEG 2000; python-gdcm: JPEG Lossless, JPEG-LS,
    12-bit JPEG Extended, RLE; pyjpegls: JPEG-LS; Pillow: 8-bit JPEG), then GDCM directly for what
    pydicom's GDCM plugin refuses. A file nothing decodes is a reject with every decoder's reason."""
    syntax = str(ds.file_meta.TransferSyntaxUID) if "TransferSyntaxUID" in ds.file_meta else ""
    if syntax == JPEG_EXTENDED and int(getattr(ds, "BitsStored", 8)) > 8:
        pixels = gdcm_pixels(ds)  # every pydicom plugin refuses 12-bit JPEG Extended; GDCM reads it
        if pixels is not None and pixels.ndim == 2:
            return pixels.view(f"u{pixels.dtype.itemsize}")
    try:
        pixels = ds.pixel_array
    except NotImplementedError as err:
        raise Rejection("unsupported_transfer_syntax", f"{syntax}: {_one_line(err)}") from None
    except (ValueError, RuntimeError, EOFError, AttributeError, KeyError) as err:
        pixels = gdcm_pixels(ds)
        if pixels is None:
            raise Rejection("decode_failed", _one_line(err)) from None
    if pixels.ndim != 2:
        raise Rejection("decode_failed", f"expected one grey frame, got array of shape {pixels.shape}")
    return pixels.view(f"u{pixels.dtype.itemsize}")


def load_pixels(path: str | Path) -> tuple[np.ndarray, Dataset]:
    """Read a DICOM file: (stored pixel values HxW, dataset); raise Rejection for what cannot be read."""
    try:
        ds = pydicom.dcmread(path)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as err:
        raise Rejection("unreadable", f"{type(err).__name__}: {err}") from None
    if "PixelData" not in ds:
        raise Rejection("no_pixel_data")
    return decode_pixels(ds), ds


def display_image(pixels: np.ndarray, ds: Dataset, settings: IntensitySettings) -> np.ndarray:
    """Stored values through the intensity chain: the display image, uint8 or uint16."""
    lut = intensity_lut(ds, settings, pixels)
    if pixels.max(initial=0) >= len(lut):
        pixels = np.minimum(pixels, len(lut) - 1)
    return lut[pixels]


def load_display_image(path: str | Path, settings: IntensitySettings) -> tuple[np.ndarray, Dataset]:
    """Read a DICOM file and return (display image uint8/uint16 HxW, dataset)."""
    pixels, ds = load_pixels(path)
    return display_image(pixels, ds, settings), ds
