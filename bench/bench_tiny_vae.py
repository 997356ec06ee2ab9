"""The tiny base's VAE pre-training (rule tiny_base): time and reconstruction per setting, side by side.

The tiny base spends most of its time training its VAE, and every job after it waits for the base. Each
setting (steps, batch, crop, learning rate, widths) trains `pretrain_vae` on the same images in its own
process on one thread, every setting once per round, rounds interleaved; PSNR is measured on the whole
images, as the base's own summary does. Reads a finished demo's training manifests, so the images are
the demo's.

    python bench/bench_tiny_vae.py --results /path/to/demo --rounds 2 \
        --setting base='{}' --setting batch8='{"batch_size": 8}' --out bench/results/tiny_vae.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_train_gpu import run_recipe  # noqa: E402

# the reference: the schema's models.tiny defaults (the demo sets vae_batch_size 8)
DEFAULT = {"steps": 400, "batch_size": 16, "crop": 64, "lr": 1e-3, "vae_channels": [16, 32, 64, 64]}


def child(arguments: dict) -> dict:
    """One setting in this process: pretrain_vae's seconds and its summary."""
    import torch

    torch.set_num_threads(1)
    from mame.data.examples import load_examples
    from mame.models.components import TinySpec, tiny_vae
    from mame.models.tiny import pretrain_vae

    os.chdir(arguments["cwd"])  # the manifests' image paths are relative to the demo's folder
    setting = {**DEFAULT, **arguments["setting"]}
    spec = TinySpec(arguments["resolution"], vae_channels=tuple(setting["vae_channels"]))
    images = load_examples(arguments["manifests"], spec.resolution, split="train").images
    torch.manual_seed(spec.seed)
    vae = tiny_vae(spec)
    started = time.perf_counter()
    metrics = pretrain_vae(
        vae, images, setting["steps"], setting["batch_size"], setting["lr"], spec.seed, crop=setting["crop"]
    )
    return {"setting": arguments["name"], "seconds": round(time.perf_counter() - started, 1), **metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("."), help="a finished demo's folder")
    parser.add_argument("--resolution", type=int, default=64, help="models.tiny.resolution")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--setting", action="append", default=[], help="name=JSON over the default")
    parser.add_argument("--out", default="bench/results/tiny_vae.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(Path(args.child).read_text()))))
        return
    # rule tiny_base's inputs: each source dataset's healthy and lesion tables (a fusion has no lesions.csv)
    datasets = sorted(p.parent for p in (args.results / "results" / "data").glob("*/lesions.csv"))
    manifests = [str(folder / f"{table}.csv") for folder in datasets for table in ("healthy", "lesions")]
    if not manifests:
        raise SystemExit(f"no results/data/*/healthy.csv under {args.results}: run the demo first")
    settings = dict(item.split("=", 1) for item in (args.setting or ["base={}"]))
    scratch = Path(tempfile.mkdtemp(prefix="bench-tiny-vae-"))
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    runs = []
    for round_index in range(args.rounds):
        for name, text in settings.items():
            arguments = {"name": name, "setting": json.loads(text), "manifests": manifests, "recipe": name,
                         "resolution": args.resolution, "cwd": str(args.results.resolve())}  # fmt: skip
            result = run_recipe(__file__, scratch / f"{name}-{round_index}.json", arguments, environment)
            runs.append({**result, "round": round_index})
            print(json.dumps(runs[-1]), flush=True)
    table = pd.DataFrame([r for r in runs if "seconds" in r])
    if table.empty:
        raise SystemExit("every setting failed (see the errors above)")
    summary = table.groupby("setting", sort=False).agg(
        seconds=("seconds", "median"), psnr_db=("psnr_db", "mean")
    )
    reference = summary.index[0]
    summary["time_ratio"] = (summary["seconds"] / summary.loc[reference, "seconds"]).round(3)
    print(summary.to_string())
    record = {"settings": settings, "runs": runs, "summary": summary.reset_index().to_dict("records")}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
