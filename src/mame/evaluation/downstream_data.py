"""Which images and labels each utility experiment uses: real train / test sets from the manifests,
synthetic sets from a model's guidance sweep (and, for lesions, an inpainting model's outputs).

Every set is a frame with `image` (a path) and `label` (a class index); class names come from the
task's `classes` (values merged into classes, e.g. fatty = very low + low) or one class per value.
"""

from __future__ import annotations

import logging

import pandas as pd

log = logging.getLogger(__name__)

LESION_CLASSES = {"healthy": ["healthy"], "lesion": ["lesion"]}


Classes = dict[str, list[str]] | list[list] | None  # name -> merged values, or [name, values] pairs


def class_table(classes: Classes, values: list[str]) -> tuple[list[str], dict[str, int]]:
    """Class names and value -> class index, in the order given (the last class is a binary task's
    positive one); without `classes`, one class per value (sorted)."""
    if not classes:
        names = sorted(set(values))
        return names, {v: i for i, v in enumerate(names)}
    pairs = list(classes.items()) if isinstance(classes, dict) else [tuple(pair) for pair in classes]
    mapping = {value: index for index, (_, merged) in enumerate(pairs) for value in merged}
    return [name for name, _ in pairs], mapping


def labelled(frame: pd.DataFrame, column: str, mapping: dict[str, int], path: str = "image") -> pd.DataFrame:
    """Rows whose `column` value belongs to a class, as image + label (others are not in the task)."""
    values = frame[column].fillna("").astype(str)
    kept = frame[values.isin(mapping)]
    return pd.DataFrame(
        {
            "image": kept[path].astype(str).to_numpy(),
            "label": values[values.isin(mapping)].map(mapping).astype(int).to_numpy(),
            "group": (kept["patient"] if "patient" in kept.columns else kept[path]).astype(str).to_numpy(),
        }
    )


def with_lesion_column(healthy: pd.DataFrame, lesions: pd.DataFrame) -> pd.DataFrame:
    """Healthy and lesion manifests in one frame with lesion = healthy / lesion."""
    return pd.concat(
        [healthy.assign(lesion="healthy"), lesions.assign(lesion="lesion")], ignore_index=True
    ).drop_duplicates("image")


def real_sets(
    real: pd.DataFrame, attribute: str, classes: Classes
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], dict[str, int]]:
    """(train, test, class names, value -> class): the train split trains, the holdout split tests (the
    manifests split by patient)."""
    if attribute == "lesion":
        classes = LESION_CLASSES
    values = real[attribute].fillna("").astype(str)
    names, mapping = class_table(classes, sorted(v for v in values.unique() if v))
    split = real["split"].astype(str)
    train = labelled(real[split == "train"], attribute, mapping)
    test = labelled(real[split == "holdout"], attribute, mapping)
    return train, test, names, mapping


def synthetic_set(
    samples: pd.DataFrame,
    guidance: float,
    attribute: str,
    mapping: dict[str, int],
    vendor: str = "",
    inpainted: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """A sweep's samples at one guidance scale, labelled by what their prompt asked for.

    Lesion task: the inpainting model's outputs are the positives, the sweep's (healthy) samples the
    negatives."""
    chosen = samples[samples["guidance"].astype(float) == float(guidance)]
    if vendor:
        chosen = chosen[chosen["vendor"].fillna("").astype(str) == vendor]
    if attribute == "lesion":
        negatives = labelled(chosen.assign(lesion="healthy"), "lesion", mapping, path="file")
        positives = pd.DataFrame(columns=["image", "label", "group"])
        if inpainted is not None and len(inpainted):
            positives = labelled(inpainted.assign(lesion="lesion"), "lesion", mapping, path="after")
        found = pd.concat([negatives, positives], ignore_index=True)
    else:
        found = labelled(chosen, attribute, mapping, path="file")
    if found.empty:
        log.warning("no samples at guidance %g ask for a class of %s", guidance, attribute)
    return found
