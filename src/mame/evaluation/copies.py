"""Copy detection beyond a plain thumbnail correlation: at the pixel level with alignment (small shifts
and a horizontal flip), and in the domain feature space (mame.evaluation.encoder); each threshold is
calibrated on held-out real images, whose false-positive rate at it is reported, and the detector is
checked on planted copies (exact, shifted, flipped, noised training images) every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mame.io import read_pixels, to_unit

SIDE = 32
SHIFT = 2  # pixels of the 32 x 32 thumbnail: about 6 % of the image each way
KINDS = ("exact", "shifted", "flipped", "noised")


def _standardise(rows: np.ndarray) -> np.ndarray:
    rows = rows - rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


def _image(item: np.ndarray | str | Path) -> np.ndarray:
    """An image as pixels or as a file (read when needed: 56k training images never sit in memory)."""
    return item if isinstance(item, np.ndarray) else read_pixels(item)


def thumbnails(images: list, side: int = SIDE) -> np.ndarray:
    """(n, side, side) float thumbnails in [0, 1] of grey images (pixels or files) of any depth and shape."""
    out = [to_unit(_image(image), side) for image in images]
    return np.stack(out) if out else np.zeros((0, side, side), np.float32)


def thumbnails_and_features(files: list, encoder) -> tuple[np.ndarray, np.ndarray]:
    """Each file read once: its copy-detection thumbnail and its domain features (`encoder`: a
    mame.evaluation.encoder.TrainedEncoder)."""
    from mame.evaluation.encoder import as_input

    thumbs, inputs = [], []
    for item in files:
        pixels = _image(item)
        thumbs.append(to_unit(pixels, SIDE))
        inputs.append(as_input(pixels))
    if not thumbs:
        return np.zeros((0, SIDE, SIDE), np.float32), encoder.embed_images([])
    import torch

    return np.stack(thumbs), encoder.model.embed(torch.from_numpy(np.stack(inputs)))


def _shifted(stack: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(stack)
    height, width = stack.shape[1:]
    ys, yd = (
        (slice(0, height - dy), slice(dy, height)) if dy >= 0 else (slice(-dy, height), slice(0, height + dy))
    )
    xs, xd = (
        (slice(0, width - dx), slice(dx, width)) if dx >= 0 else (slice(-dx, width), slice(0, width + dx))
    )
    out[:, yd, xd] = stack[:, ys, xs]
    return out


def aligned_nearest(
    queries: np.ndarray, references: np.ndarray, shift: int = SHIFT
) -> tuple[np.ndarray, np.ndarray]:
    """Index and correlation of each query thumbnail's nearest reference thumbnail, maximised over shifts
    of up to `shift` pixels each way and a horizontal flip of the query."""
    if len(queries) == 0 or len(references) == 0:
        return np.zeros(len(queries), int), np.full(len(queries), np.nan)
    reference_rows = _standardise(references.reshape(len(references), -1).astype(np.float64))
    best = np.full(len(queries), -np.inf)
    index = np.zeros(len(queries), int)
    for flip in (False, True):
        base = queries[:, :, ::-1] if flip else queries
        for dy in range(-shift, shift + 1):
            for dx in range(-shift, shift + 1):
                rows = _standardise(_shifted(base, dy, dx).reshape(len(base), -1).astype(np.float64))
                correlation = rows @ reference_rows.T
                here = correlation.argmax(axis=1)
                score = correlation[np.arange(len(rows)), here]
                better = score > best
                best[better], index[better] = score[better], here[better]
    return index, best


def feature_nearest(queries: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index and cosine similarity of each query's nearest reference in the feature space."""
    if len(queries) == 0 or len(references) == 0:
        return np.zeros(len(queries), int), np.full(len(queries), np.nan)
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    r = references / np.maximum(np.linalg.norm(references, axis=1, keepdims=True), 1e-12)
    similarity = q @ r.T
    index = similarity.argmax(axis=1)
    return index, similarity[np.arange(len(q)), index]


def calibrate(holdout: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """Threshold = the largest score of a random half of the held-out real images; false-positive rate =
    the share of the other half above it (an honest estimate: the half that set it does not grade it)."""
    if holdout.size < 2:
        return (float(holdout.max()) if holdout.size else 1.0), float("nan")
    order = np.random.default_rng(seed).permutation(holdout.size)
    calibration, evaluation = holdout[order[: holdout.size // 2]], holdout[order[holdout.size // 2 :]]
    threshold = float(calibration.max())
    return threshold, float((evaluation > threshold).mean())


def plant(images: list[np.ndarray], kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """Copies of training images as a memorising generator might produce them."""
    out = []
    for image in images:
        top = float(np.iinfo(image.dtype).max)
        if kind == "exact":
            copy = image.copy()
        elif kind == "shifted":  # 5 % of the side down and right, air filling in
            dy, dx = max(1, image.shape[0] // 20), max(1, image.shape[1] // 20)
            copy = np.zeros_like(image)
            copy[dy:, dx:] = image[:-dy, :-dx]
        elif kind == "flipped":
            copy = image[:, ::-1].copy()
        elif kind == "noised":  # Gaussian noise of 5 % of the range
            copy = np.clip(image + rng.normal(0, 0.05 * top, image.shape), 0, top).astype(image.dtype)
        else:
            raise ValueError(f"unknown copy kind {kind!r}; expected one of {KINDS}")
        out.append(copy)
    return out


def detection_rates(
    train_images: list,
    train_features: np.ndarray,
    holdout_images: list,
    holdout_features: np.ndarray,
    embed,
    count: int = 20,
    seed: int = 0,
    train_thumbs: np.ndarray | None = None,
    holdout_thumbs: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per detector (aligned pixels, features) and planted kind: how many of `count` planted copies of
    training images its held-out-calibrated threshold flags, and the held-out false-positive rate.
    Images are pixels or files; `embed(images)` maps pixel arrays to the feature space."""
    rng = np.random.default_rng(seed)
    train_thumbs = thumbnails(train_images) if train_thumbs is None else train_thumbs
    holdout_thumbs = thumbnails(holdout_images) if holdout_thumbs is None else holdout_thumbs
    holdout_pixels = aligned_nearest(holdout_thumbs, train_thumbs)[1]
    holdout_feature = feature_nearest(holdout_features, train_features)[1]
    thresholds = {
        "aligned pixels": calibrate(holdout_pixels, seed),
        "features": calibrate(holdout_feature, seed),
    }
    picked = rng.choice(len(train_images), min(count, len(train_images)), replace=False)
    rows = []
    for kind in KINDS:
        planted = plant([_image(train_images[i]) for i in picked], kind, rng)
        scores = {
            "aligned pixels": aligned_nearest(thumbnails(planted), train_thumbs)[1],
            "features": feature_nearest(embed(planted), train_features)[1],
        }
        for detector, values in scores.items():
            threshold, false_positive = thresholds[detector]
            rows.append(
                {
                    "detector": detector,
                    "planted": kind,
                    "copies": len(planted),
                    "detected": int((values > threshold).sum()),
                    "rate": float((values > threshold).mean()),
                    "threshold": threshold,
                    "held_out_false_positive_rate": false_positive,
                }
            )
    return pd.DataFrame(rows)


def copy_scores(
    sample_images: list,
    sample_features: np.ndarray,
    holdout_images: list,
    holdout_features: np.ndarray,
    train_images: list,
    train_features: np.ndarray,
    seed: int = 0,
    thumbs: dict[str, np.ndarray] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per image (samples, then held-out real): aligned-pixel correlation and feature similarity to the
    nearest training image, each flagged above its held-out-calibrated threshold; and per detector the
    threshold with the held-out false-positive rate. `thumbs` may hold the thumbnails already made
    ("samples", "holdout", "train"), so files are read once."""
    thumbs = thumbs or {}
    train_thumbs = thumbs["train"] if "train" in thumbs else thumbnails(train_images)
    sample_thumbs = thumbs["samples"] if "samples" in thumbs else thumbnails(sample_images)
    held_thumbs = thumbs["holdout"] if "holdout" in thumbs else thumbnails(holdout_images)
    pixel_samples = aligned_nearest(sample_thumbs, train_thumbs)[1]
    pixel_held = aligned_nearest(held_thumbs, train_thumbs)[1]
    feature_samples = feature_nearest(sample_features, train_features)[1]
    feature_held = feature_nearest(holdout_features, train_features)[1]
    pixel_threshold, pixel_fpr = calibrate(pixel_held, seed)
    feature_threshold, feature_fpr = calibrate(feature_held, seed)
    scores = pd.DataFrame(
        {
            "source": ["generated"] * len(sample_images) + ["held-out real"] * len(holdout_images),
            "aligned_correlation": np.round(np.concatenate([pixel_samples, pixel_held]), 5),
            "feature_similarity": np.round(np.concatenate([feature_samples, feature_held]), 5),
        }
    )
    generated = scores["source"] == "generated"
    scores["aligned_flagged"] = generated & (scores["aligned_correlation"] > pixel_threshold)
    scores["feature_flagged"] = generated & (scores["feature_similarity"] > feature_threshold)
    thresholds = pd.DataFrame(
        {
            "detector": ["aligned pixels", "features"],
            "threshold": [pixel_threshold, feature_threshold],
            "held_out_false_positive_rate": [pixel_fpr, feature_fpr],
            "samples_flagged": [int(scores["aligned_flagged"].sum()), int(scores["feature_flagged"].sum())],
            "samples": [len(sample_images)] * 2,
        }
    )
    return scores, thresholds
