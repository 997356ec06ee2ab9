"""Does synthetic data help? Downstream classifiers trained with and without synthetic images.

Arms, all scored on the same held-out real images (split by patient):
  real only; real + synthetic at each ratio of the real count; synthetic pre-training then real
  fine-tuning; synthetic only. Each under data scarcity (a share of the real training images, stratified
  by class) and for each guidance scale of the synthetic images, with several seeds. A seed fixes the
  real subset, the synthetic draw and the classifier's initialisation and batches, and is shared by all
  arms, so arms differ only in their data.

Statistics: AUC (one-vs-rest macro average for more than two classes) with DeLong's CI per run; per arm
the mean and SD over seeds, and the seed-averaged AUC's DeLong CI and paired DeLong test against real
only (same seeds, same test cases): the test-case uncertainty of the mean over seeds.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from scipy import stats

from mame.evaluation.classifier import class_probabilities, train_classifier
from mame.stats.auc import delong_components, paired_delong

log = logging.getLogger(__name__)

REAL_ONLY = "real only"
PRETRAIN = "synthetic pre-training, real fine-tuning"
SYNTHETIC_ONLY = "synthetic only"
Z95 = float(stats.norm.ppf(0.975))


def mixed(ratio: float) -> str:
    return f"real + synthetic {ratio:g}x"


class UtilitySkipped(ValueError):
    """An experiment these images cannot support (too few test or training images of a class)."""


@dataclass(frozen=True)
class UtilitySettings:
    seeds: int = 3
    real_fractions: tuple[float, ...] = (0.1, 0.25, 1.0)
    synthetic_ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    steps: int = 150
    batch_size: int = 32
    lr: float = 3e-3

    @classmethod
    def from_config(cls, utility: dict) -> UtilitySettings:
        return cls(
            seeds=int(utility["seeds"]),
            real_fractions=tuple(float(f) for f in utility["real_fractions"]),
            synthetic_ratios=tuple(float(r) for r in utility["synthetic_ratios"]),
            steps=int(utility["steps"]),
            batch_size=int(utility["batch_size"]),
            lr=float(utility["lr"]),
        )


@dataclass
class Images:
    """Inputs (n, 1, s, s) in [0, 1] and their class indices."""

    inputs: torch.Tensor
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, index: np.ndarray) -> Images:
        return Images(self.inputs[torch.as_tensor(index, dtype=torch.long)], self.labels[index])

    @staticmethod
    def join(parts: list[Images]) -> Images:
        return Images(torch.cat([p.inputs for p in parts]), np.concatenate([p.labels for p in parts]))


def auc_components(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """AUC and per-case DeLong components: the positive (last) class for two classes, else the macro
    average of one-vs-rest AUCs (classes absent from the test set are left out)."""
    classes = probabilities.shape[1]
    if classes == 2:
        return delong_components(probabilities[:, 1], labels == 1)
    parts = [
        delong_components(probabilities[:, k], labels == k)
        for k in range(classes)
        if 2 <= (labels == k).sum() <= len(labels) - 2
    ]
    if not parts:
        raise ValueError("no class has two test cases on each side")
    return float(np.mean([a for a, _ in parts])), np.mean([c for _, c in parts], axis=0)


def stratified_share(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of `fraction` of each class (at least one of each), drawn without replacement."""
    chosen = []
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        count = max(1, round(fraction * len(members)))
        chosen.append(rng.choice(members, size=min(count, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))


@dataclass
class Run:
    arm: str
    guidance: float
    real_fraction: float
    seed: int
    real_images: int
    synthetic_images: int
    auc: float
    components: np.ndarray = field(repr=False)


@dataclass
class Experiment:
    """One task's arms over seeds, fractions and guidance scales."""

    task: str
    classes: list[str]
    train: Images
    test: Images
    synthetic: dict[float, Images]
    settings: UtilitySettings
    runs: list[Run] = field(default_factory=list)

    def _fit(self, images: Images, seed: int, start=None):
        s = self.settings
        return train_classifier(
            images.inputs, images.labels, len(self.classes), s.steps, s.batch_size, s.lr, seed, start
        )

    def _score(self, model, arm, guidance, fraction, seed, real, synthetic) -> None:
        value, components = auc_components(class_probabilities(model, self.test.inputs), self.test.labels)
        self.runs.append(Run(arm, guidance, fraction, seed, real, synthetic, value, components))

    def trainings(self) -> int:
        s = self.settings
        fractions, ratios = len(s.real_fractions), len(s.synthetic_ratios)
        return s.seeds * (fractions + len(self.synthetic) * (1 + fractions * (1 + ratios)))

    def check(self) -> None:
        """Raise UtilitySkipped, naming the shortfall, when no AUC could be computed or trained for."""
        counts = np.bincount(self.test.labels, minlength=len(self.classes))
        usable = [k for k in range(len(self.classes)) if counts[k] >= 2 and len(self.test) - counts[k] >= 2]
        if not usable:
            per_class = dict(zip(self.classes, counts.tolist(), strict=True))
            raise UtilitySkipped(
                f"{self.task}: test images per class {per_class} leave no class with 2 cases on each side"
            )
        present = np.unique(self.train.labels)
        if len(present) < 2:
            raise UtilitySkipped(f"{self.task}: the real training images hold {len(present)} class(es)")
        for guidance in [g for g, pool in self.synthetic.items() if len(pool) == 0]:
            log.warning("%s: no synthetic images at guidance %g; that scale is left out", self.task, guidance)
            del self.synthetic[guidance]

    def run(self) -> Experiment:
        self.check()
        s, started, done = self.settings, time.perf_counter(), 0
        total = self.trainings()

        def progress() -> None:
            nonlocal done
            done += 1
            if done % 10 == 0 or done == total:
                rate = done / (time.perf_counter() - started)
                log.info("%s: %d of %d trainings (%.2f a second)", self.task, done, total, rate)

        for seed in range(s.seeds):
            # one real subset per share and seed, shared by every arm
            subsets = {
                fraction: self.train.take(
                    stratified_share(
                        self.train.labels, fraction, np.random.default_rng([seed, round(fraction * 1000)])
                    )
                )
                for fraction in s.real_fractions
            }
            for fraction, real in subsets.items():
                self._score(self._fit(real, seed), REAL_ONLY, math.nan, fraction, seed, len(real), 0)
                progress()
            for guidance, pool in self.synthetic.items():
                pretrained = self._fit(pool, seed)
                progress()
                self._score(pretrained, SYNTHETIC_ONLY, guidance, 0.0, seed, 0, len(pool))
                for fraction, real in subsets.items():
                    tuned = self._fit(real, seed, start=pretrained)
                    progress()
                    self._score(tuned, PRETRAIN, guidance, fraction, seed, len(real), len(pool))
                    draw = np.random.default_rng([seed, round(fraction * 1000), round(guidance * 100)])
                    order = draw.permutation(len(pool))
                    trained: dict[int, Run] = {}
                    for ratio in s.synthetic_ratios:
                        wanted = round(ratio * len(real))
                        if wanted > len(pool):
                            log.warning(
                                "%s: %gx of %d real images wants %d synthetic images at guidance %g; the "
                                "sweep has %d, all used",
                                self.task,
                                ratio,
                                len(real),
                                wanted,
                                guidance,
                                len(pool),
                            )
                        count = min(wanted, len(pool))
                        if count in trained:  # the same images as a smaller ratio capped at the pool:
                            same = trained[count]  # the same model (same seed), so the same scores
                            self.runs.append(dataclasses.replace(same, arm=mixed(ratio)))
                            progress()
                            continue
                        added = pool.take(order[:count])
                        model = self._fit(Images.join([real, added]), seed)
                        progress()
                        self._score(model, mixed(ratio), guidance, fraction, seed, len(real), count)
                        trained[count] = self.runs[-1]
        return self

    def runs_table(self) -> pd.DataFrame:
        """One row per trained classifier: its AUC and DeLong 95 % CI on the test images."""
        rows = []
        for run in self.runs:
            se = math.sqrt(float(np.sum(run.components**2)))
            rows.append(
                {
                    "task": self.task,
                    "arm": run.arm,
                    "guidance": run.guidance,
                    "real_fraction": run.real_fraction,
                    "seed": run.seed,
                    "real_images": run.real_images,
                    "synthetic_images": run.synthetic_images,
                    "test_images": len(self.test),
                    "auc": run.auc,
                    "se": se,
                    "ci_low": max(0.0, run.auc - Z95 * se),
                    "ci_high": min(1.0, run.auc + Z95 * se),
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> pd.DataFrame:
        """Per arm, guidance and real share: mean and SD over seeds; the seed-averaged AUC's DeLong CI; its
        paired DeLong difference from real only (synthetic only is compared with all real images)."""
        baseline = {(run.real_fraction, run.seed): run for run in self.runs if run.arm == REAL_ONLY}
        groups: dict[tuple, list[Run]] = {}
        for run in self.runs:
            groups.setdefault((run.arm, run.guidance, run.real_fraction), []).append(run)
        rows = []
        for (arm, guidance, fraction), runs in groups.items():
            mean = (float(np.mean([r.auc for r in runs])), np.mean([r.components for r in runs], axis=0))
            se = math.sqrt(float(np.sum(mean[1] ** 2)))
            row = {
                "task": self.task,
                "classes": " / ".join(self.classes),
                "arm": arm,
                "guidance": guidance,
                "real_fraction": fraction,
                "seeds": len(runs),
                "real_images": int(np.mean([r.real_images for r in runs])),
                "synthetic_images": int(np.mean([r.synthetic_images for r in runs])),
                "test_images": len(self.test),
                "auc_mean": mean[0],
                "auc_sd": float(np.std([r.auc for r in runs], ddof=1)) if len(runs) > 1 else math.nan,
                "auc_low": max(0.0, mean[0] - Z95 * se),
                "auc_high": min(1.0, mean[0] + Z95 * se),
            }
            against = 1.0 if arm == SYNTHETIC_ONLY else fraction
            pairs = [baseline.get((against, r.seed)) for r in runs]
            if arm != REAL_ONLY and all(pairs):
                reference = (
                    float(np.mean([r.auc for r in pairs])),
                    np.mean([r.components for r in pairs], axis=0),
                )
                test = paired_delong(mean, reference)
                row.update(
                    difference=test.difference, difference_low=test.low, difference_high=test.high, p=test.p
                )
            rows.append(row)
        return pd.DataFrame(rows)


def skipped_notes(summary: pd.DataFrame) -> pd.Series:
    """Per row, why its experiment was skipped ("" for rows with results)."""
    if "skipped" not in summary.columns:
        return pd.Series("", index=summary.index)
    return summary["skipped"].map(lambda note: note if isinstance(note, str) else "")


def verdict(summary: pd.DataFrame) -> str:
    """One honest sentence per task: where synthetic data helped, hurt, or made no detectable difference."""
    sentences = []
    for task, rows in summary.groupby("task", sort=False):
        tested = rows.dropna(subset=["p"]) if "p" in rows.columns else rows.iloc[:0]
        better = tested[(tested["difference_low"] > 0)]
        worse = tested[(tested["difference_high"] < 0)]
        best = tested.loc[tested["difference"].idxmax()] if len(tested) else None
        text = (
            f"{task}: of {len(tested)} arm settings compared with real only, {len(better)} raised the AUC "
            f"and {len(worse)} lowered it beyond their 95 % CI; the rest show no difference these test "
            "images can detect."
        )
        if best is not None:
            text += (
                f" Largest difference: {best['arm']} (guidance {best['guidance']:g}, "
                f"{best['real_fraction']:.0%} of the real images) {best['difference']:+.3f} "
                f"[{best['difference_low']:+.3f}, {best['difference_high']:+.3f}], p = {best['p']:.3g}."
            )
        sentences.append(text)
    return " ".join(sentences)


def load_set(frame: pd.DataFrame, side: int) -> Images:
    """A labelled frame (image paths, label) read at `side` x `side`."""
    from mame.evaluation.encoder import load_inputs

    return Images(load_inputs(frame["image"].tolist(), side), frame["label"].to_numpy(dtype=int))


def build_experiment(
    name: str,
    task: dict,
    settings: UtilitySettings,
    guidance: list[float],
    side: int,
    healthy: pd.DataFrame,
    samples: pd.DataFrame,
    other: pd.DataFrame | None = None,
    lesions: pd.DataFrame | None = None,
    inpainted: pd.DataFrame | None = None,
) -> Experiment:
    """One configured experiment with its images loaded.

    A task (`utility.tasks.<name>`) trains on its dataset's train split and tests on its holdout split.
    The cross-vendor experiment (`other` given) trains on one vendor's training images and tests on all
    of the other vendor's real images (none of them trains), with every real image (no scarcity) and as
    many synthetic images of the other vendor as real ones."""
    from mame.evaluation.downstream_data import labelled, real_sets, synthetic_set, with_lesion_column

    attribute = task["attribute"]
    if attribute == "lesion":
        healthy = with_lesion_column(healthy, lesions)
    train, test, classes, mapping = real_sets(healthy, attribute, task.get("classes"))
    if other is not None:
        test = labelled(other, attribute, mapping)
        settings = dataclasses.replace(settings, real_fractions=(1.0,), synthetic_ratios=(1.0,))
    synthetic = {
        float(g): load_set(
            synthetic_set(samples, g, attribute, mapping, task.get("vendor", ""), inpainted), side
        )
        for g in guidance
    }
    log.info(
        "%s: classes %s; %d real training, %d test images; synthetic per guidance %s",
        name,
        classes,
        len(train),
        len(test),
        {g: len(s) for g, s in synthetic.items()},
    )
    return Experiment(name, classes, load_set(train, side), load_set(test, side), synthetic, settings)
