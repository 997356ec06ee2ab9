"""The study's reader-study analysis: ratings and key in, per-reader and pooled ROC tables out.

Per reader: the empirical ROC, its AUC with DeLong's (or at the boundary Newcombe's) interval, a
stratified bootstrap CI, the binormal fit for ordinal ratings, and the test against chance beside the
equivalence test; several readers: the Obuchowski-Rockette random-reader test; planning: how many
cases a next study needs. The statistics themselves live in `mame.stats`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mame.stats.auc import (
    Interval,
    auc,
    bootstrap,
    delong,
    delong_covariance,
    empirical_roc,
    equivalence_p,
    format_p,
    newcombe,
    p_vs_chance,
)
from mame.stats.binormal import fit_binormal
from mame.stats.multireader import RandomReaderTest, random_reader_test
from mame.stats.planning import Planning, cases_needed, ci_half_width_at_chance


def auc_interval(positive: np.ndarray, negative: np.ndarray) -> tuple[Interval, str]:
    """DeLong's Wald interval, or Newcombe's where Wald reaches past 0 or 1 (or has no width)."""
    wald = delong(positive, negative)
    if wald.se == 0 or wald.low <= 0 or wald.high >= 1:
        return newcombe(wald.estimate, positive.size, negative.size), "Newcombe (boundary)"
    return wald, "DeLong"


def _probability_auc(group: pd.DataFrame) -> Interval | None:
    """The AUC of a reader's continuous probability (the observer's), when every case has one."""
    if "probability" not in group or group["probability"].isna().any():
        return None
    positive = group.loc[group["synthetic"] == 1, "probability"].to_numpy(float)
    negative = group.loc[group["synthetic"] == 0, "probability"].to_numpy(float)
    return auc_interval(positive, negative)[0]


def reader_table(
    joined: pd.DataFrame, kinds: dict[str, str], resamples: int = 2000, seed: int = 0, margin: float = 0.1
):
    """One row per reader: design, AUC with DeLong and bootstrap CIs, tests of AUC = 0.5 and of
    equivalence within +-margin (TOST), binormal fit, and the AUC of a continuous probability if given.

    `joined`: rows (reader, case_id, rating, synthetic[, probability]) from ratings.join_to_key.
    """
    rows, points = [], []
    for reader, group in joined.groupby("reader", sort=False):
        positive = group.loc[group["synthetic"] == 1, "rating"].to_numpy(float)
        negative = group.loc[group["synthetic"] == 0, "rating"].to_numpy(float)
        wald, method = auc_interval(positive, negative)
        probability = _probability_auc(group)
        boot = bootstrap(positive, negative, resamples, seed)
        fit = fit_binormal(positive, negative)
        rows.append(
            {
                "reader": reader,
                "kind": kinds.get(reader, "human"),
                "cases": len(group),
                "synthetic": positive.size,
                "real": negative.size,
                "auc": wald.estimate,
                "se": wald.se,
                "ci_low": wald.low,
                "ci_high": wald.high,
                "bootstrap_low": boot.low,
                "bootstrap_high": boot.high,
                "ci_method": method,
                "p_vs_chance": p_vs_chance(positive, negative, wald),
                "equivalence_p": equivalence_p(wald.estimate, delong(positive, negative).se, margin),
                "probability_auc": probability.estimate if probability else math.nan,
                "probability_ci_low": probability.low if probability else math.nan,
                "probability_ci_high": probability.high if probability else math.nan,
                "binormal_a": fit.a,
                "binormal_b": fit.b,
                "az": fit.az,
                "az_se": fit.az_se,
                "binormal_note": fit.note,
            }
        )
        fpf, tpf = empirical_roc(positive, negative)
        points.append(pd.DataFrame({"reader": reader, "fpf": fpf, "tpf": tpf}))
    return pd.DataFrame(rows), pd.concat(points, ignore_index=True)


def pooled_test(joined: pd.DataFrame, readers: list[str], margin: float = 0.1) -> RandomReaderTest:
    """Random-reader test over `readers`, on the cases every one of them rated."""
    subset = joined[joined["reader"].isin(readers)]
    common = set.intersection(*(set(g["case_id"]) for _, g in subset.groupby("reader")))
    subset = subset[subset["case_id"].isin(common)].sort_values(["reader", "case_id"])
    positives, negatives, aucs = [], [], []
    for reader in readers:
        group = subset[subset["reader"] == reader]
        positives.append(group.loc[group["synthetic"] == 1, "rating"].to_numpy(float))
        negatives.append(group.loc[group["synthetic"] == 0, "rating"].to_numpy(float))
        aucs.append(auc(positives[-1], negatives[-1]))
    return random_reader_test(
        np.array(aucs), delong_covariance(positives, negatives), len(common), margin=margin
    )


@dataclass
class Analysis:
    readers: pd.DataFrame  # one row per reader (reader_table)
    points: pd.DataFrame  # empirical ROC points per reader
    pooled: pd.DataFrame  # the random-reader test over human readers (empty below 2)
    power: pd.DataFrame  # this design at chance, and the cases a +-margin result needs
    summary: pd.DataFrame  # the paper's table, indexed by reader
    warnings: list[str]


def format_interval(estimate: float, low: float, high: float) -> str:
    if math.isnan(estimate):
        return "-"
    return f"{estimate:.3f} [{low:.3f}, {high:.3f}]"


def analyse(
    key: pd.DataFrame,
    files: list[str],
    names: list[str | None],
    observer: str | None = None,
    margin: float = 0.1,
    resamples: int = 2000,
    seed: int = 0,
    planning: Planning | None = None,
) -> Analysis:
    """Every rating file joined to the key by case id, and the whole analysis of the study.

    names[i] names the reader of files[i] when that file has none; `observer` is the file written by
    the automated observer (its reader is a model, and stays out of the random-reader test).
    """
    from mame.reader_study.ratings import join_to_key, read_ratings

    frames = [read_ratings(path, name) for path, name in zip(files, names, strict=True)]
    ratings = pd.concat(frames, ignore_index=True)
    joined, warnings = join_to_key(ratings, key)
    model_readers = set(frames[files.index(observer)]["reader"]) if observer in files else set()
    readers, points = reader_table(joined, {name: "model" for name in model_readers}, resamples, seed, margin)
    humans = readers.loc[readers["kind"] == "human", "reader"].tolist()
    pooled = pd.DataFrame(columns=["reader_names", *RandomReaderTest.__dataclass_fields__])
    if len(humans) >= 2:
        test = pooled_test(joined, humans, margin)
        pooled = pd.DataFrame([{"reader_names": ", ".join(humans), **test.__dict__}])
    elif humans:
        warnings.append("one human reader: the random-reader test needs at least two")
    synthetic, real = int((key["truth"] == "synthetic").sum()), int((key["truth"] == "real").sum())
    planning = planning or Planning()
    needed = cases_needed(margin, synthetic / (synthetic + real), planning=planning)
    design = {
        "readers": planning.readers,
        "spread_ratio": planning.spread_ratio,
        "reader_sd": planning.reader_sd,
        "reader_correlation": planning.reader_correlation,
    }
    power = pd.DataFrame(
        [
            {
                "design": "this kit",
                "cases": synthetic + real,
                "synthetic": synthetic,
                "real": real,
                "ci_half_width_at_chance": ci_half_width_at_chance(synthetic, real, planning),
                **design,
            },
            *(
                {
                    "design": {
                        "ci": f"95 % CI half-width <= {margin:g} at AUC 0.5",
                        "equivalence": f"equivalence test at +- {margin:g}, 80 % power",
                    }[criterion],
                    **counts,
                    "ci_half_width_at_chance": ci_half_width_at_chance(
                        counts["synthetic"], counts["real"], planning
                    )
                    if counts["cases"]
                    else math.nan,
                    **design,
                }
                for criterion, counts in needed.items()
            ),
        ]
    )
    summary = pd.DataFrame(
        {
            "reader": readers["reader"],
            "kind": readers["kind"],
            "cases (synthetic/real)": [
                f"{c} ({s}/{r})"
                for c, s, r in zip(readers["cases"], readers["synthetic"], readers["real"], strict=True)
            ],
            "AUC [95% CI]": [
                format_interval(*v) + (" (Newcombe)" if m.startswith("Newcombe") else "")
                for *v, m in zip(
                    readers["auc"], readers["ci_low"], readers["ci_high"], readers["ci_method"], strict=True
                )
            ],
            "bootstrap 95% CI": [
                f"[{low:.3f}, {high:.3f}]"
                for low, high in zip(readers["bootstrap_low"], readers["bootstrap_high"], strict=True)
            ],
            "p (AUC = 0.5)": readers["p_vs_chance"].map(format_p),
            f"p (TOST, within ±{margin:g})": readers["equivalence_p"].map(format_p),
            "binormal Az": readers["az"].map(lambda az: "-" if math.isnan(az) else f"{az:.3f}"),
            "AUC of probability": [
                format_interval(*values)
                for values in zip(
                    readers["probability_auc"],
                    readers["probability_ci_low"],
                    readers["probability_ci_high"],
                    strict=True,
                )
            ],
        }
    )
    if not pooled.empty:
        row = pooled.iloc[0]
        summary.loc[len(summary)] = {
            "reader": f"mean of {int(row['readers'])} readers (OR)",
            "kind": "human",
            "cases (synthetic/real)": str(int(row["cases"])),
            "AUC [95% CI]": format_interval(row["mean_auc"], row["low"], row["high"]),
            "bootstrap 95% CI": "-",
            "p (AUC = 0.5)": format_p(row["p"]),
            f"p (TOST, within ±{margin:g})": format_p(row["equivalence_p"]),
            "binormal Az": "-",
            "AUC of probability": "-",
        }
    return Analysis(readers, points, pooled, power, summary.set_index("reader"), warnings)
