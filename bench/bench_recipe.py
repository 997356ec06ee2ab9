"""Does a training recipe make a demo model follow its prompts? Condition fidelity per recipe and seed.

Run after the demo (`make demo`). Each (recipe, seed) gets its own copy of the finished `results/`
(hard links, so seconds and no disk), a config overlay that sets the recipe's training keys and the seed
on one model (training seed and sampling seed both move), and the real workflow re-runs that model's
`finetune`, `sample_sweep` and `fidelity` rules, nothing else. Every recipe is read by the pipeline's
own fidelity rule, so the numbers are the report's numbers. Jobs run `--parallel` at a time, one core
each (the demo's training threads).

    python bench/bench_recipe.py --results . --model siemens --seeds 0 1 \
        --recipe base='{}' --recipe min_snr='{"snr_gamma": 5.0}' --out bench/results/recipe.json

A recipe's `base` (a pipeline directory) and `datasets` keys go to the model's entry: the model is then
fine-tuned from that base, its latents encoded by the base's VAE.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
MODEL_KEYS = {"base", "datasets"}  # a recipe key that belongs to the model's entry, not to its train block


def overlay(config: dict, model: str, recipe: dict, seed: int) -> dict:
    """The model's own train block with the recipe over it, and the seeds of training and sampling."""
    section = "inpaint" if model in config["models"].get("inpaint", {}) else "finetune"
    entry = dict(config["models"][section][model])
    training = {key: value for key, value in recipe.items() if key not in MODEL_KEYS}
    entry.update({key: value for key, value in recipe.items() if key in MODEL_KEYS})
    entry["train"] = {**entry.get("train", {}), **training, "seed": seed}
    return {"models": {section: {model: entry}}, "sampling": {"seed": 1000 + 7919 * seed}}


def run_one(
    source: Path, scratch: Path, config: dict, model: str, name: str, recipe: dict, seed: int
) -> dict:
    """Copy results/, re-run the model's training, sweep and fidelity with the overlay; its fidelity rows."""
    workdir = scratch / f"{name}-seed{seed}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    subprocess.run(["cp", "-al", str(source / "results"), str(workdir / "results")], check=True)
    for stale in ("models", "checkpoints", "samples", "metrics"):  # the copies' outputs are re-made
        shutil.rmtree(workdir / "results" / stale / model, ignore_errors=True)
    (workdir / "overlay.yaml").write_text(yaml.safe_dump(overlay(config, model, recipe, seed)))
    command = [
        sys.executable, "-m", "snakemake", f"results/metrics/{model}/fidelity.csv",
        "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
        "--cores", "1", "--rerun-triggers", "mtime",
        "--configfile", str(REPO / "config" / "config.yaml"), str(workdir / "overlay.yaml"),
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
    wall = time.perf_counter() - started
    if done.returncode:
        return {"recipe": name, "seed": seed, "error": done.stderr.strip().splitlines()[-1]}
    fidelity = pd.read_csv(workdir / "results" / "metrics" / model / "fidelity.csv")
    training = pd.read_csv(workdir / "benchmarks" / "models" / f"{model}.tsv", sep="\t")["s"].iloc[0]
    return {
        "recipe": name,
        "seed": seed,
        "settings": recipe,
        "wall_s": round(wall, 1),
        "training_s": round(float(training), 1),
        "fidelity": fidelity.round(4).to_dict(orient="records"),
    }


def summary(runs: list[dict], guidance: float) -> pd.DataFrame:
    """One row per (recipe, seed, attribute) at the given guidance: accuracy and its Wilson CI."""
    rows = []
    for run in runs:
        for row in run.get("fidelity", []):
            if row["guidance"] == guidance:
                rows.append(
                    {
                        "recipe": run["recipe"],
                        "seed": run["seed"],
                        "attribute": row["attribute"],
                        "accuracy": row["accuracy"],
                        "ci": f"[{row['ci_low']:.2f}, {row['ci_high']:.2f}]",
                        "above_chance": row["ci_low"] > row["chance"],
                        "training_s": run["training_s"],
                    }
                )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=".", help="a finished demo run's folder (holds results/)")
    parser.add_argument("--model", default="siemens")
    parser.add_argument("--recipe", action="append", default=[], help="name=JSON of training keys")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--guidance", type=float, default=7.0)
    parser.add_argument("--scratch", default=None)
    parser.add_argument("--out", default="bench/results/recipe.json")
    args = parser.parse_args()
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    recipes = dict(item.split("=", 1) for item in args.recipe) or {"demo": "{}"}
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="bench-recipe-"))
    jobs = [(name, json.loads(text), seed) for name, text in recipes.items() for seed in args.seeds]
    with ThreadPoolExecutor(args.parallel) as pool:
        futures = [
            pool.submit(run_one, Path(args.results), scratch, config, args.model, name, recipe, seed)
            for name, recipe, seed in jobs
        ]
        runs = []
        for future in futures:
            runs.append(future.result())
            print(json.dumps({k: v for k, v in runs[-1].items() if k != "fidelity"}), flush=True)
    table = summary(runs, args.guidance)
    print(table.to_string(index=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    record = {"model": args.model, "guidance": args.guidance, "runs": runs}
    Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
