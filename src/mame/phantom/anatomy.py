"""Synthetic breast anatomy for phantom mammograms (an X-ray attenuation map, not pixels of a file).

The map is drawn for a LEFT breast with the chest wall at x = 0; a right breast is its mirror.
It has what the pipeline's later stages look for: an outline with a skin line, CC vs MLO shape,
the pectoral muscle on MLO, fibroglandular texture whose amount follows BI-RADS density A-D,
a breast size that varies, and masses / calcification clusters with their boxes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy import ndimage

DENSE_SHARE = {"A": 0.10, "B": 0.28, "C": 0.50, "D": 0.72}  # share of the gland zone that is dense


@dataclass
class Finding:
    """A lesion box in pixel edges (x2/y2 exclusive) and its category as the tables spell it."""

    category: str  # "Mass" or "Suspicious Calcification"
    box: tuple[float, float, float, float]


@dataclass
class Anatomy:
    signal: np.ndarray  # float32 HxW in [0, 1]: 0 = air, higher = more attenuation
    findings: list[Finding] = field(default_factory=list)


def _fractal_noise(rng: np.random.Generator, rows: int, cols: int, beta: float = 3.0) -> np.ndarray:
    """Gaussian noise with a 1/f^beta power spectrum (the classic model of breast texture)."""
    small_r, small_c = max(16, rows // 4), max(16, cols // 4)
    white = rng.standard_normal((small_r, small_c))
    fy = np.fft.fftfreq(small_r)[:, None]
    fx = np.fft.rfftfreq(small_c)[None, :]
    radius = np.sqrt(fx**2 + fy**2)
    radius[0, 0] = 1.0
    spectrum = np.fft.rfft2(white) / radius ** (beta / 2)
    spectrum[0, 0] = 0
    field_small = np.fft.irfft2(spectrum, s=(small_r, small_c))
    field_small = (field_small - field_small.mean()) / (field_small.std() + 1e-9)
    image = Image.fromarray(field_small.astype(np.float32)).resize((cols, rows), Image.Resampling.BICUBIC)
    return np.asarray(image)


def _outline(
    rng: np.random.Generator, rows: int, cols: int, view: str, size: float, elongation: float = 1.0
) -> np.ndarray:
    """Boolean breast region for a left breast; `size` in [0, 1] scales it within the detector.

    `elongation` stretches the nipple-to-chest-wall depth and shrinks the height by the same factor:
    breasts differ in shape, not only in size, and under the breast crop the shape is what sets how
    much of the canvas the breast fills (with size alone, every CC image filled 0.53-0.64 of it).
    """
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    depth = min(0.97 * cols, cols * (0.40 + 0.55 * size) * rng.uniform(0.92, 1.05) * elongation)
    theta = np.arctan2(yy - rows / 2, xx + 1)
    wobble = 1 + 0.035 * np.sin(3 * theta + rng.uniform(0, 2 * np.pi)) + 0.02 * np.sin(5 * theta)
    if view == "CC":
        half_height = min(0.5 * rows, rows * (0.24 + 0.22 * size) * rng.uniform(0.9, 1.08) / elongation)
        center = rows * rng.uniform(0.46, 0.54)
        region = (xx / depth) ** 2 + ((yy - center) / half_height) ** 2 <= wobble**2
    else:  # MLO-like views: a drooping ellipse plus the axillary tail reaching the top edge
        center = rows * rng.uniform(0.50, 0.60)
        half_height = min(0.5 * rows, rows * (0.30 + 0.15 * size) / elongation)
        body = (xx / depth) ** 2 + ((yy - center) / half_height) ** 2 <= wobble**2
        tail_width = depth * rng.uniform(0.30, 0.45)
        tail = xx <= tail_width * np.clip(1.15 - yy / (center + 1e-6), 0, 1.15)
        region = body | (tail & (yy < center))
    return region


def synthesize(
    rng: np.random.Generator,
    rows: int,
    cols: int,
    view: str,
    density: str,
    size: float,
    masses: int = 0,
    calcification_clusters: int = 0,
    elongation: float = 1.0,
) -> Anatomy:
    """Draw one left-breast attenuation map with the requested findings."""
    region = _outline(rng, rows, cols, view, size, elongation)
    scale = cols / 256.0  # sizes below are tuned for a 256-pixel-wide detector and scale with it
    depth_in = ndimage.distance_transform_edt(region).astype(np.float32)
    thickness = 1.0 - np.exp(-depth_in / (10.0 * scale))  # compressed breast thins towards the skin
    texture = _fractal_noise(rng, rows, cols)
    fine = _fractal_noise(rng, rows, cols, beta=1.6)
    gland_zone = np.clip(depth_in / (18.0 * scale), 0, 1)
    share = DENSE_SHARE[density] * rng.uniform(0.9, 1.1)
    cut = np.quantile(texture[region & (gland_zone > 0.5)], 1 - share) if region.any() else 0.0
    dense = 1.0 / (1.0 + np.exp(-(texture - cut) / 0.25)) * gland_zone
    tissue = 0.28 + 0.14 * thickness + (0.24 * dense + 0.025 * fine) * thickness
    signal = np.where(region, tissue, 0.02)
    skin = region & (depth_in <= max(1.0, 1.5 * scale))
    signal = np.where(skin, signal + 0.10, signal)
    if view != "CC":  # pectoral muscle: a bright triangle in the upper chest-wall corner
        yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
        reach_x = cols * rng.uniform(0.18, 0.32)
        reach_y = rows * rng.uniform(0.40, 0.62)
        muscle = region & (xx / reach_x + yy / reach_y <= 1)
        signal = np.where(muscle, 0.72 + 0.04 * texture.clip(-2, 2) / 2, signal)
    anatomy = Anatomy(signal=signal.astype(np.float32))
    inner = np.argwhere(depth_in > 14 * scale)
    for _ in range(masses):
        _add_mass(rng, anatomy, inner, scale)
    for _ in range(calcification_clusters):
        _add_calcifications(rng, anatomy, inner, scale)
    anatomy.signal += rng.normal(0, 0.008, anatomy.signal.shape).astype(np.float32)
    np.clip(anatomy.signal, 0, 1, out=anatomy.signal)
    return anatomy


def _add_mass(rng: np.random.Generator, anatomy: Anatomy, inner: np.ndarray, scale: float) -> None:
    if len(inner) == 0:
        return
    cy, cx = inner[rng.integers(len(inner))]
    ry, rx = rng.uniform(5, 11, size=2) * scale
    rows, cols = anatomy.signal.shape
    yy, xx = np.ogrid[0:rows, 0:cols]
    r = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
    anatomy.signal += (0.22 * np.clip(1.4 - r, 0, 0.4) / 0.4).astype(np.float32)
    box = (
        max(0.0, cx - 1.4 * rx),
        max(0.0, cy - 1.4 * ry),
        min(cols, cx + 1.4 * rx + 1),
        min(rows, cy + 1.4 * ry + 1),
    )
    anatomy.findings.append(Finding("Mass", tuple(round(float(v), 1) for v in box)))


def _add_calcifications(rng: np.random.Generator, anatomy: Anatomy, inner: np.ndarray, scale: float) -> None:
    if len(inner) == 0:
        return
    cy, cx = inner[rng.integers(len(inner))]
    count = int(rng.integers(6, 14))
    spread = 5 * scale
    ys = np.clip(np.round(cy + rng.normal(0, spread, count)), 0, anatomy.signal.shape[0] - 1).astype(int)
    xs = np.clip(np.round(cx + rng.normal(0, spread, count)), 0, anatomy.signal.shape[1] - 1).astype(int)
    dot = max(1, int(round(scale)))
    for y, x in zip(ys, xs, strict=True):
        anatomy.signal[y : y + dot, x : x + dot] = 0.98
    box = (float(xs.min()) - 1, float(ys.min()) - 1, float(xs.max()) + dot + 1, float(ys.max()) + dot + 1)
    box = (
        max(0.0, box[0]),
        max(0.0, box[1]),
        min(anatomy.signal.shape[1], box[2]),
        min(anatomy.signal.shape[0], box[3]),
    )
    anatomy.findings.append(Finding("Suspicious Calcification", box))


def mirror(anatomy: Anatomy) -> Anatomy:
    """The right-breast version: anatomy mirrored, boxes mirrored (x1/x2 swap)."""
    width = anatomy.signal.shape[1]
    findings = [
        Finding(f.category, (width - f.box[2], f.box[1], width - f.box[0], f.box[3]))
        for f in anatomy.findings
    ]
    return Anatomy(np.ascontiguousarray(anatomy.signal[:, ::-1]), findings)
