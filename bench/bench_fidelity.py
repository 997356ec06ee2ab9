"""Do the demo's samples follow their prompts? Condition fidelity of the fusion model.

Trains one classifier per attribute on the real processed demo images (mame.evaluation.fidelity), then
generates images for every vendor x view x attribute-value prompt from the fine-tuned fusion
model and reports how often the classifier reads the attribute the prompt asked for.
Run after the demo pipeline: python bench/bench_fidelity.py [--guidance 7] [--per-prompt 8]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch
from scipy.stats import spearmanr

from mame.evaluation.fidelity import AttributeClassifier
from mame.io import read_grey
from mame.prompts import AREA_WORDS, DENSITY_WORDS, VIEWS, build_prompt
from mame.sampling.sweep import generate, load_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="results/models/fusion/pipeline")
    parser.add_argument("--manifest", default="results/data/fusion/healthy.csv")
    parser.add_argument("--guidance", type=float, default=7.0)
    parser.add_argument("--per-prompt", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="bench/results/fidelity.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    real = pd.read_csv(args.manifest, keep_default_na=False)
    train, holdout = real[real.split == "train"], real[real.split == "holdout"]
    tasks = {"view": real, "density": real[real.vendor == "siemens"], "area": real[real.vendor == "hologic"]}
    classifiers, report = {}, {"model": args.model, "guidance": args.guidance, "steps": args.steps}
    for attribute, rows in tasks.items():
        fit_rows = rows[rows.key.isin(train.key)]
        classifiers[attribute] = AttributeClassifier.fit(
            attribute,
            [read_grey(p) for p in fit_rows.image],
            fit_rows[attribute].tolist(),
            fit_rows.patient.tolist(),
        )
        held = rows[rows.key.isin(holdout.key)]
        report[f"{attribute}_real_ceiling"] = round(classifiers[attribute].ceiling, 3)
        report[f"{attribute}_real_holdout_accuracy"] = round(
            classifiers[attribute].accuracy([read_grey(p) for p in held.image], held[attribute].tolist()), 3
        )
        report[f"{attribute}_chance"] = round(
            float(fit_rows[attribute].value_counts(normalize=True).max()), 3
        )
    pipeline = load_pipeline(args.model)
    jobs = [("hologic", view, "area", word) for view in VIEWS for word in AREA_WORDS]
    jobs += [("siemens", view, "density", word) for view in VIEWS for word in DENSITY_WORDS.values()]
    rows, started = [], time.perf_counter()
    for number, (vendor, view, attribute, word) in enumerate(jobs):
        prompt = build_prompt(view, vendor=vendor, **{attribute: word})
        seeds = [1000 * number + i for i in range(args.per_prompt)]
        images = generate(pipeline, [prompt] * len(seeds), seeds, guidance=args.guidance, steps=args.steps)
        views = classifiers["view"].predict(images)
        values = classifiers[attribute].predict(images)
        rows += [
            {
                "prompt": prompt,
                "view": view,
                "attribute": attribute,
                "asked": word,
                "view_read": v,
                "attribute_read": a,
            }
            for v, a in zip(views, values, strict=True)
        ]
    frame = pd.DataFrame(rows)
    report["generated_images"] = len(frame)
    report["generation_s_per_image"] = round((time.perf_counter() - started) / len(frame), 3)
    report["view_accuracy_generated"] = round(float((frame.view == frame.view_read).mean()), 3)
    for attribute, order in (("density", list(DENSITY_WORDS.values())), ("area", list(AREA_WORDS))):
        part = frame[frame.attribute == attribute]
        asked = part.asked.map(order.index).to_numpy()
        got = part.attribute_read.map(order.index).to_numpy()
        report[f"{attribute}_accuracy_generated"] = round(float((asked == got).mean()), 3)
        report[f"{attribute}_within_one_level_generated"] = round(float((abs(asked - got) <= 1).mean()), 3)
        report[f"{attribute}_spearman_asked_vs_read"] = round(float(spearmanr(asked, got).statistic), 3)
        if attribute == "density":  # BI-RADS A/B (fatty) vs C/D (dense), the split used in the clinic
            fatty_dense = float(((asked >= 2) == (got >= 2)).mean())
            report["density_fatty_vs_dense_accuracy_generated"] = round(fatty_dense, 3)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
