"""Condition fidelity: does a generated image show the view / density / area its prompt asked for?

A small classifier per attribute is trained on the real processed images (no downloaded weights):
standardised features into a logistic regression, the features chosen among shape (a downsampled copy:
view), texture (the breast's intensity histogram: density) or both. It learns every class of the
real data, but a sample is read among the classes its prompt set asks for (the argmax of the
probabilities over them), so chance is 1/k for k asked classes: the prompts ask for the extremes, and a
reading among all classes would count a "medium" reading against the model while chance stayed 1/2.
Area has a definition (breast pixels over all pixels, binned), so it is measured, not learned
(area_reading.py).

The ceiling a perfect generator would reach is the same reading on real images of the asked classes:
balanced recall over patient-grouped folds (a woman's 3-4 images share her density), with the feature
set and regularisation chosen inside each outer fold (nested), never on the folds that score it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mame.evaluation.area_reading import AreaByDefinition
from mame.io import in_split, read_pixels
from mame.stats.proportions import wilson

log = logging.getLogger(__name__)

FEATURE_SIDE = 24
WORK_SIDE = 64
HISTOGRAM_BINS = 16
FEATURE_SETS = {
    "shape": slice(0, FEATURE_SIDE**2),
    "texture": slice(FEATURE_SIDE**2, None),
    "both": slice(None),
}
STRENGTHS = (0.1, 1.0)
FOLDS = 5


def features(image: np.ndarray) -> np.ndarray:
    """Grey image (HxW, uint8/uint16/float in [0, 1]) -> feature vector (downsample + breast histogram)."""
    if image.dtype == np.uint8:
        grey = image.astype(np.float32) / 255.0
    elif image.dtype == np.uint16:
        grey = image.astype(np.float32) / 65535.0
    else:
        grey = image.astype(np.float32)
    if grey.ndim == 3:
        grey = grey.mean(axis=-1)
    # one working resolution, so real (processed) and generated images of other sizes compare alike
    grey = np.asarray(Image.fromarray(grey, mode="F").resize((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX))
    small = np.asarray(
        Image.fromarray(grey, mode="F").resize((FEATURE_SIDE, FEATURE_SIDE), Image.Resampling.BOX)
    )
    breast = grey[grey > 0.05]
    histogram = np.histogram(breast, bins=HISTOGRAM_BINS, range=(0.05, 1.0))[0] / max(1, breast.size)
    return np.concatenate([small.ravel(), histogram, [breast.size / grey.size]])


def _model(strength: float, seed: int):
    return make_pipeline(StandardScaler(), LogisticRegression(C=strength, max_iter=3000, random_state=seed))


def grouped_folds(labels: np.ndarray, groups: np.ndarray, scored: list[str], seed: int, wanted: int = FOLDS):
    """Stratified folds that never split a group (a patient): as many as the scored class with the
    fewest groups allows, at most `wanted`. Raises when a scored class has fewer than 2 groups."""
    labels, groups = np.asarray(labels), np.asarray(groups)
    per_class = {c: len(set(groups[labels == c])) for c in scored}
    count = min(wanted, *per_class.values())
    if count < 2:
        raise ValueError(f"grouped cross-validation needs 2 patients per class, got {per_class}")
    splitter = StratifiedGroupKFold(n_splits=count, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels, groups))


def classify_among(model, x: np.ndarray, classes: list[str]) -> np.ndarray:
    """The class among `classes` with the highest probability (a class the model never saw is never read)."""
    known = list(model.classes_)
    names = [c for c in classes if c in known]
    if not names:
        raise ValueError(f"the classifier knows none of {classes} (it knows {known})")
    probability = model.predict_proba(x)[:, [known.index(c) for c in names]]
    return np.asarray(names)[probability.argmax(axis=1)]


def balanced_recall(truth: np.ndarray, read: np.ndarray, classes: list[str]) -> float:
    """Mean over `classes` (those present in truth) of the share of each class read as itself."""
    truth, read = np.asarray(truth), np.asarray(read)
    recalls = [float(np.mean(read[truth == c] == c)) for c in classes if np.any(truth == c)]
    return float(np.mean(recalls)) if recalls else math.nan


def _score(x, y, asked, columns, strength, folds, seed) -> float:
    truth, read = [], []
    for train, test in folds:
        test = test[np.isin(y[test], asked)]
        if test.size == 0:
            continue
        model = _model(strength, seed).fit(x[train][:, columns], y[train])
        truth.append(y[test])
        read.append(classify_among(model, x[test][:, columns], asked))
    if not truth:
        return math.nan
    return balanced_recall(np.concatenate(truth), np.concatenate(read), asked)


def choose_setting(x, y, groups, asked: list[str], seed: int = 0) -> tuple[str, float]:
    """Feature set and regularisation with the best patient-grouped balanced recall over `asked`;
    the first setting ('shape', 0.1) when the data are too few to cross-validate."""
    settings = [(name, strength) for name in FEATURE_SETS for strength in STRENGTHS]
    try:
        folds = grouped_folds(y, groups, asked, seed)
    except ValueError:
        return settings[0]
    scores = [_score(x, y, asked, FEATURE_SETS[n], s, folds, seed) for n, s in settings]
    scores = [-1.0 if math.isnan(score) else score for score in scores]
    return settings[int(np.argmax(scores))]


def nested_ceiling(x, y, groups, asked: list[str], seed: int = 0) -> tuple[float, int]:
    """Balanced recall over `asked` on real images, patient-grouped outer folds, the setting chosen on
    each outer training part alone; (nan, 0) when a class has fewer than 2 patients."""
    try:
        outer = grouped_folds(y, groups, asked, seed)
    except ValueError as error:
        log.warning("no fidelity ceiling: %s", error)
        return math.nan, 0
    truth, read = [], []
    for train, test in outer:
        test = test[np.isin(y[test], asked)]
        if test.size == 0:
            continue
        name, strength = choose_setting(x[train], y[train], groups[train], asked, seed)
        columns = FEATURE_SETS[name]
        model = _model(strength, seed).fit(x[train][:, columns], y[train])
        truth.append(y[test])
        read.append(classify_among(model, x[test][:, columns], asked))
    truth_all = np.concatenate(truth)
    return balanced_recall(truth_all, np.concatenate(read), asked), int(truth_all.size)


@dataclass
class AttributeClassifier:
    """One attribute (e.g. density) learned from real images of every class, read among `asked`."""

    attribute: str
    model: object
    classes: list[str]  # every value among the real images
    asked: list[str]  # the values the prompts ask for: samples are read among these
    setting: tuple[str, float]  # feature set and regularisation
    ceiling: float  # balanced recall over `asked` on real images (nested, patient-grouped)
    ceiling_images: int

    @classmethod
    def fit(
        cls,
        attribute: str,
        images: list[np.ndarray],
        labels: list[str],
        groups: list[str] | None = None,
        asked: list[str] | None = None,
        seed: int = 0,
    ) -> AttributeClassifier:
        """Fit on real images; `groups` (patients) keep one woman's images in one fold (default: each
        image its own group); `asked` defaults to every class."""
        y = np.asarray(labels, dtype=object).astype(str)
        classes = sorted(str(c) for c in set(y))
        if len(classes) < 2:
            raise ValueError(f"attribute {attribute!r} has a single value in the real images: {set(labels)}")
        asked = sorted(str(a) for a in set(asked or classes))
        unknown = sorted(set(asked) - set(classes))
        if unknown:
            raise ValueError(f"attribute {attribute!r}: {unknown} never occur among the real images")
        if len(asked) < 2:
            raise ValueError(f"attribute {attribute!r}: reading among one asked value {asked} is not a test")
        groups_array = np.asarray(groups if groups is not None else range(len(y))).astype(str)
        x = np.stack([features(i) for i in images])
        ceiling, counted = nested_ceiling(x, y, groups_array, asked, seed)
        setting = choose_setting(x, y, groups_array, asked, seed)
        model = _model(setting[1], seed).fit(x[:, FEATURE_SETS[setting[0]]], y)
        return cls(attribute, model, classes, asked, setting, ceiling, counted)

    def _x(self, images: list[np.ndarray]) -> np.ndarray:
        return np.stack([features(i) for i in images])[:, FEATURE_SETS[self.setting[0]]]

    def predict(self, images: list[np.ndarray]) -> list[str]:
        """The reading among every class of the real data."""
        return list(self.model.predict(self._x(images)))

    def read(self, images: list[np.ndarray]) -> list[str]:
        """The reading among the asked classes only."""
        return list(classify_among(self.model, self._x(images), self.asked))

    def readings(self, images: list[np.ndarray]) -> tuple[list[str], list[str]]:
        """Both readings (among the asked classes, among every class) from one feature pass."""
        x = self._x(images)
        return list(classify_among(self.model, x, self.asked)), list(self.model.predict(x))

    def accuracy(self, images: list[np.ndarray], labels: list[str]) -> float:
        return float(np.mean(np.asarray(self.read(images)) == np.asarray(labels)))


ATTRIBUTES = ("view", "area", "density")
VERDICT_COLUMNS = [
    "file",
    "guidance",
    "attribute",
    "asked",
    "read",
    "read_all_classes",
    "chance",
    "real_ceiling",
    "ceiling_images",
]


def _filled(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame[frame[column].fillna("").astype(str) != ""]


def classify_attributes(
    samples: pd.DataFrame,
    real: pd.DataFrame,
    seed: int = 0,
    area_thresholds: tuple[float, float] = (0.4, 0.6),
) -> pd.DataFrame:
    """Per sample and asked attribute: what a classifier trained on the real images reads; area is
    read by its definition instead (area_reading.py, at `area_thresholds`: manifest.area_thresholds).

    `samples`: rows with file and the asked view / area / density (empty if not asked); `real`: manifest
    rows (image, patient, split, view, area, density). Returns VERDICT_COLUMNS rows: `read` among the
    asked values (chance 1/k), `read_all_classes` among every real class. Attributes with one real value
    are skipped; samples asking for a value no real image has are dropped with a warning.
    """
    train = in_split(real)
    rows = []
    for attribute in ATTRIBUTES:
        if attribute not in samples.columns or attribute not in train.columns:
            continue
        asked_rows = _filled(samples, attribute)
        known = _filled(train, attribute)
        if asked_rows.empty or known[attribute].nunique() < 2:
            continue
        present = set(known[attribute].astype(str))
        missing = ~asked_rows[attribute].astype(str).isin(present)
        if missing.any():
            log.warning(
                "%s: %d samples ask for %s, which no real training image has; not read",
                attribute,
                int(missing.sum()),
                sorted(set(asked_rows.loc[missing, attribute].astype(str))),
            )
            asked_rows = asked_rows[~missing]
        asked = sorted(set(asked_rows[attribute].astype(str)))
        if len(asked) < 2:
            log.warning("%s: the samples ask for one value only (%s); not read", attribute, asked)
            continue
        groups = known["patient"] if "patient" in known.columns else known["image"]
        images, labels = [read_pixels(p) for p in known["image"]], known[attribute].astype(str).tolist()
        if attribute == "area":
            classifier = AreaByDefinition.fit(images, labels, asked, area_thresholds)
        else:
            classifier = AttributeClassifier.fit(
                attribute, images, labels, groups.astype(str).tolist(), asked, seed=seed
            )
        log.info(
            "%s: classes %s, read among %s; setting %s; ceiling %.3f on %d real images",
            attribute,
            classifier.classes,
            asked,
            classifier.setting,
            classifier.ceiling,
            classifier.ceiling_images,
        )
        read, read_all = classifier.readings([read_pixels(p) for p in asked_rows["file"]])
        rows.append(
            pd.DataFrame(
                {
                    "file": asked_rows["file"].tolist(),
                    "guidance": asked_rows["guidance"].tolist() if "guidance" in asked_rows else None,
                    "attribute": attribute,
                    "asked": asked_rows[attribute].astype(str).tolist(),
                    "read": read,
                    "read_all_classes": read_all,
                    "chance": 1.0 / len(asked),
                    "real_ceiling": classifier.ceiling,
                    "ceiling_images": classifier.ceiling_images,
                }
            )
        )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=VERDICT_COLUMNS)


def _share(group: pd.DataFrame) -> dict:
    hits = int((group["read"] == group["asked"]).sum())
    low, high = wilson(hits, len(group))
    return {"images": len(group), "hits": hits, "accuracy": hits / len(group), "ci_low": low, "ci_high": high}


FIDELITY_COLUMNS = [
    "attribute",
    "guidance",
    "images",
    "hits",
    "accuracy",
    "ci_low",
    "ci_high",
    "chance",
    "real_ceiling",
    "ceiling_images",
    "read_outside_asked",
]


def fidelity_by_guidance(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per (attribute, guidance): share of samples read as asked among the asked values, its Wilson 95 %
    CI, chance 1/k, the real-image ceiling, and the share an all-class reading puts outside the asked
    values (e.g. 'medium' density when the prompts ask for the extremes)."""
    rows = []
    for (attribute, guidance), group in verdicts.groupby(["attribute", "guidance"], sort=True):
        asked = set(group["asked"])
        rows.append(
            {
                "attribute": attribute,
                "guidance": guidance,
                **_share(group),
                "chance": float(group["chance"].iloc[0]),
                "real_ceiling": float(group["real_ceiling"].iloc[0]),
                "ceiling_images": int(group["ceiling_images"].iloc[0]),
                "read_outside_asked": float((~group["read_all_classes"].isin(asked)).mean()),
            }
        )
    return pd.DataFrame(rows, columns=FIDELITY_COLUMNS)


def fidelity_confusion(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Confusion matrix per (attribute, guidance) among the asked values, long form: every (asked, read)
    cell with its count, its share of the asked row and that share's Wilson 95 % CI."""
    rows = []
    for (attribute, guidance), group in verdicts.groupby(["attribute", "guidance"], sort=True):
        values = sorted(set(group["asked"]))
        for asked in values:
            row = group[group["asked"] == asked]
            for read in values:
                count = int((row["read"] == read).sum())
                low, high = wilson(count, len(row))
                rows.append(
                    {
                        "attribute": attribute,
                        "guidance": guidance,
                        "asked": asked,
                        "read": read,
                        "count": count,
                        "asked_total": len(row),
                        "share": count / len(row),
                        "ci_low": low,
                        "ci_high": high,
                    }
                )
    columns = ["attribute", "guidance", "asked", "read", "count", "asked_total", "share", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns)


def extrapolation_agreement(table: pd.DataFrame) -> pd.DataFrame:
    """Per vendor and unseen attribute: images, how often the real-trained classifier reads the value the
    prompt asked for (among the asked values), its Wilson 95 % CI and chance (concept extrapolation)."""
    asked = table["area"].where(table["area"] != "", table["density"])
    rows = []
    for (vendor, attribute), group in table.assign(asked=asked).groupby(["vendor", "attribute"]):
        share = _share(group)
        rows.append(
            {
                "vendor": vendor,
                "attribute": attribute,
                "images": share["images"],
                "classifier agrees": share["accuracy"],
                "ci_low": share["ci_low"],
                "ci_high": share["ci_high"],
                "chance": float(group["chance"].iloc[0])
                if "chance" in group
                else 1.0 / group["asked"].nunique(),
            }
        )
    columns = ["vendor", "attribute", "images", "classifier agrees", "ci_low", "ci_high", "chance"]
    return pd.DataFrame(rows, columns=columns).round(3)
