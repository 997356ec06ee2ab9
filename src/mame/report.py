"""results/report.html: one self-contained page with each stage's figures, tables and captions."""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import yaml

from mame import figures
from mame.training_data import read_manifests

PACKAGES = (
    "mame",
    "snakemake",
    "torch",
    "diffusers",
    "transformers",
    "pydicom",
    "numpy",
    "pandas",
    "scikit-image",
)


@dataclass
class DatasetFiles:
    """What the report reads of one dataset."""

    name: str
    index: str
    healthy: str
    lesions: str


@dataclass
class Section:
    title: str
    caption: str
    figure: str = ""  # data URI
    table_html: str = ""
    notes: list[str] = field(default_factory=list)


def _html_table(frame: pd.DataFrame, index: bool = True) -> str:
    return frame.to_html(index=index, border=0, classes="table", na_rep="")


def data_sections(
    datasets: list[DatasetFiles],
    dataset_table: pd.DataFrame,
    rejects: pd.DataFrame,
    examples: int,
    seed: int = 0,
) -> list[Section]:
    """Section 1 of the report: dataset table, rejects, raw->processed, image-prompt, image-mask."""
    sections = [
        Section(
            "Datasets",
            "Images per dataset after filtering and conversion: healthy images become image-prompt pairs "
            "for the conditional models, images with a lesion of a selected category become image-mask "
            "pairs for inpainting (the study's dataset table).",
            table_html=_html_table(dataset_table),
        ),
        Section(
            "Rejected files",
            "Every file that did not become a training image, counted by stage and reason; "
            "results/data/<dataset>/rejects.csv lists each by its pseudonymous key.",
            table_html=_html_table(rejects, index=False) if len(rejects) else "<p>No file was rejected.</p>",
        ),
    ]
    healthy = read_manifests([d.healthy for d in datasets])
    lesion_parts = []
    for dataset in datasets:
        lesions = pd.read_csv(dataset.lesions, keep_default_na=False)
        index = pd.read_csv(dataset.index, keep_default_na=False)[["key", "source", "findings"]]
        lesion_parts.append(lesions.merge(index.rename(columns={"findings": "raw_findings"}), on="key"))
    lesions = pd.concat(lesion_parts, ignore_index=True)
    if len(lesions):
        picked = lesions.sample(min(examples, len(lesions)), random_state=seed)
        sections.append(
            Section(
                "Raw to processed",
                "Top: the raw DICOM after its VOI transform, lesion boxes as the dataset's tables give them. "
                "Bottom: the processed image and the same boxes moved by the one geometry transform "
                "(crop, flip of right breasts, resize, pad) that moved the pixels.",
                figure=figures.to_data_uri(figures.raw_vs_processed(picked)),
            )
        )
        sections.append(
            Section(
                "Image-mask pairs",
                "Inpainting training pairs: processed image with a lesion and its mask (255 inside every "
                "lesion box of a selected category, 0 elsewhere).",
                figure=figures.to_data_uri(figures.image_mask_pairs(picked)),
            )
        )
    if len(healthy):
        picked = healthy.sample(min(examples, len(healthy)), random_state=seed)
        sections.append(
            Section(
                "Image-prompt pairs",
                "Healthy training images with their captions, built by the one prompt builder "
                "(area for Hologic-like data, density for Siemens-like data, as in the study).",
                figure=figures.to_data_uri(figures.image_prompt_pairs(picked)),
            )
        )
    return sections


def training_sections(models: dict[str, tuple[str, str]]) -> list[Section]:
    """Section 2: loss curves of every model; validation images over training for each one.

    `models`: name -> (training_log.csv, validation folder).
    """
    logs = {name: pd.read_csv(log) for name, (log, _) in models.items()}
    rows = [
        {
            "model": name,
            "steps": int(log["step"].max()),
            "final loss (mean of last 25)": round(float(log["loss"].tail(25).mean()), 4),
            "minutes": round(float(log["seconds"].max()) / 60, 1),
        }
        for name, log in logs.items()
        if len(log)
    ]
    sections = [
        Section(
            "Loss curves",
            "Epsilon-prediction MSE per optimizer step (faint) and its moving average, for every fine-tuned "
            "and "
            "inpainting model; log scale.",
            figure=figures.to_data_uri(figures.loss_curves(logs)),
            table_html=_html_table(pd.DataFrame(rows), index=False),
        )
    ]
    for name, (_, folder) in models.items():
        grids = sorted(Path(folder).glob("step_*.png"))
        if not grids:
            continue
        shown = (
            grids if len(grids) <= 5 else [grids[i] for i in np.linspace(0, len(grids) - 1, 5).astype(int)]
        )
        sections.append(
            Section(
                f"Validation images over training: {name}",
                "The same prompts and the same seed at successive training steps (top to bottom): the "
                "study's "
                "'denoising process at epoch ...' figure. Each column's prompt is printed under it.",
                figure=figures.to_data_uri(figures.stacked_images(shown)),
            )
        )
    return sections


def guidance_sections(
    samples: dict[str, str],
    diversity: list[str],
    fidelity: list[str],
    msssim_wide: pd.DataFrame,
    separability: list[str] | None = None,
) -> list[Section]:
    """Section 3: samples over guidance, the MS-SSIM table, fidelity and diversity against guidance."""
    sections = []
    for model, path in samples.items():
        frame = pd.read_csv(path, keep_default_na=False)
        sections.append(
            Section(
                f"Samples over guidance: {model}",
                "The first seed of every prompt (rows) at each guidance scale (columns): the same starting "
                "noise under growing classifier-free guidance. DPM-Solver multistep, "
                f"{int(frame['steps'].iloc[0])} steps.",
                figure=figures.to_data_uri(figures.guidance_grid(frame, model)),
            )
        )
    diversity_frame = read_manifests(diversity, column=None)
    fidelity_frame = read_manifests(fidelity, column=None)
    scales = sorted(set(diversity_frame["scales"]))
    sections.append(
        Section(
            "MS-SSIM by guidance",
            "Mean pairwise MS-SSIM of each model's samples per prompt and guidance (± sd over pairs, "
            "bootstrap "
            "95 % CI over images), and among real training images of the same condition (last row). Original "
            f"definition, data range 255, one channel, {', '.join(map(str, scales))} scale(s) at this "
            "image size. "
            "Lower means more diverse.",
            table_html=_html_table(msssim_wide),
        )
    )
    if separability:
        table = read_manifests(separability, column=None)
        sections.append(
            Section(
                "Real vs synthetic",
                "Cross-validated AUC of a logistic regression (the fidelity features) telling each model's "
                "samples from as many real training images, per guidance scale, with a bootstrap 95 % CI. "
                "0.5 = this observer cannot tell them apart; 1 = always can.",
                table_html=_html_table(
                    table[["model", "guidance", "real", "synthetic", "auc", "ci_low", "ci_high"]].round(3),
                    index=False,
                ),
            )
        )
    if len(fidelity_frame):
        sections.append(
            Section(
                "Fidelity and diversity against guidance",
                "Left axis: mean MS-SSIM over prompts (dashed: real images). Right axis: how often "
                "classifiers trained on real images read the view / density / area the prompt asked for. "
                "More guidance "
                "trades diversity for fidelity; the study described this trade-off in words only.",
                figure=figures.to_data_uri(figures.fidelity_and_diversity(diversity_frame, fidelity_frame)),
                table_html=_html_table(fidelity_frame.round(3), index=False),
            )
        )
    return sections


def extrapolation_sections(tables: dict[str, str]) -> list[Section]:
    """Section 4: the fusion model asked for attribute values a vendor's data never captioned."""
    sections = []
    for model, path in tables.items():
        table = pd.read_csv(path, keep_default_na=False)
        asked = table["area"].where(table["area"] != "", table["density"])
        agreement = (
            table.assign(asked=asked, hit=table["read"] == asked)
            .groupby(["vendor", "attribute"])["hit"]
            .agg(["size", "mean"])
            .reset_index()
            .rename(columns={"size": "images", "mean": "classifier agrees"})
        )
        sections.append(
            Section(
                f"Concept extrapolation: {model}",
                "Hologic images were only captioned with breast area and Siemens images only with density; "
                "the fusion model is asked for the other attribute (the study's concept extrapolation). "
                "Above each image: what a classifier trained on real images reads (green = as asked).",
                figure=figures.to_data_uri(figures.extrapolation_grid(table, model)),
                table_html=_html_table(agreement.round(3), index=False),
            )
        )
    return sections


def inpainting_sections(tables: dict[str, str]) -> list[Section]:
    """Section 4 (cont.): lesions painted into held-out healthy images."""
    sections = []
    for model, path in tables.items():
        table = pd.read_csv(path, keep_default_na=False)
        sections.append(
            Section(
                f"Lesion inpainting: {model}",
                "Held-out healthy images with a box placed inside the breast (area between the 25th and 75th "
                "percentiles of the training lesion boxes, aspect ratio from their mean ± sd: the study's "
                "procedure), inpainted with the lesion prompt; the original is kept outside the box "
                f"(largest change outside: {int(table['max_change_outside'].max())} grey levels).",
                figure=figures.to_data_uri(figures.inpainting_panels(table, model)),
                table_html=_html_table(
                    table[["box", "mean_change_inside", "max_change_outside"]].round(2), index=False
                ),
            )
        )
    return sections


def privacy_sections(memorization: dict[str, str], threshold: float) -> list[Section]:
    """Section 6: how close samples come to training images, against held-out real images."""
    tables = {model: pd.read_csv(path, keep_default_na=False) for model, path in memorization.items()}
    rows = []
    for model, table in tables.items():
        for source, part in table.groupby("source"):
            rows.append(
                {
                    "model": model,
                    "images": source,
                    "n": len(part),
                    "median correlation": round(float(part["correlation"].median()), 3),
                    "95th percentile": round(float(part["correlation"].quantile(0.95)), 3),
                    "flagged": int(part["flagged"].astype(str).isin(["True", "true", "1"]).sum()),
                }
            )
    return [
        Section(
            "Memorization",
            "For every sample, the Pearson correlation of a 32 x 32 copy with its nearest training image; "
            "held-out real images show how close an unseen mammogram comes by chance. Samples above "
            f"{threshold:g} are flagged as possible copies (metrics/<model>/memorization.csv lists them).",
            figure=figures.to_data_uri(figures.memorization_histograms(tables, threshold)),
            table_html=_html_table(pd.DataFrame(rows), index=False),
        )
    ]


def run_times(folder: str | Path) -> pd.DataFrame:
    """Wall time and peak memory of every job, from Snakemake's `benchmark:` files, grouped by stage."""
    rows = []
    for path in sorted(Path(folder).rglob("*.tsv")):
        frame = pd.read_csv(path, sep="\t")
        if frame.empty:
            continue
        stage = path.relative_to(folder).parts[0] if len(path.relative_to(folder).parts) > 1 else path.stem
        rows.append(
            {
                "stage": stage,
                "seconds": float(frame["s"].iloc[-1]),
                "max_rss_mb": pd.to_numeric(frame["max_rss"], errors="coerce").iloc[-1],
            }
        )
    if not rows:
        return pd.DataFrame(columns=["stage", "jobs", "total seconds", "longest job (s)", "peak memory (MB)"])
    frame = pd.DataFrame(rows)
    return (
        frame.groupby("stage", sort=False)
        .agg(
            jobs=("seconds", "size"),
            total=("seconds", "sum"),
            longest=("seconds", "max"),
            memory=("max_rss_mb", "max"),
        )
        .round(1)
        .reset_index()
        .rename(
            columns={"total": "total seconds", "longest": "longest job (s)", "memory": "peak memory (MB)"}
        )
    )


def hardware() -> str:
    """CPU model, cores, memory and GPU of the machine that rendered the report."""
    import os

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB memory"
    except (ValueError, OSError, AttributeError):
        pass
    gpu = "no GPU"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    except ImportError:
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, {gpu}"


def provenance(config: dict, benchmarks: str | Path | None = None) -> dict:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    shown = json.loads(json.dumps(config))
    shown.get("privacy", {}).pop("salt", None)  # the salt is a secret
    return {
        "config": yaml.safe_dump(shown, sort_keys=False),
        "versions": versions,
        "commit": commit or "unknown",
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "hardware": hardware(),
        "run_times": _html_table(run_times(benchmarks), index=False) if benchmarks else "",
        "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def render(stages: dict[str, list[Section]], provenance_info: dict) -> str:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mame", "templates"), autoescape=jinja2.select_autoescape(["html"])
    )
    return environment.get_template("report.html").render(stages=stages, provenance=provenance_info)


def write_report(
    path: str | Path, stages: dict[str, list[Section]], config: dict, benchmarks: str | Path | None = None
) -> None:
    Path(path).write_text(render(stages, provenance(config, benchmarks)))


def write_figures(stages: dict[str, list[Section]], folder: str | Path) -> list[Path]:
    """Every report figure also as a PNG file (results/figures/<stage>-<nn>-<title>.png)."""
    import base64
    import re

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stage_number, sections in enumerate(stages.values(), start=1):
        for number, section in enumerate(s for s in sections if s.figure):
            slug = re.sub(r"[^a-z0-9]+", "-", section.title.lower()).strip("-")
            path = folder / f"{stage_number}-{number:02d}-{slug}.png"
            path.write_bytes(base64.b64decode(section.figure.split(",", 1)[1]))
            written.append(path)
    return written


def reader_study_sections(
    readers: str, points: str, pooled: str, power: str, summary: str, key: str, warnings: str
) -> list[Section]:
    """Section 5: the blinded real-vs-synthetic study, per reader and pooled, with its power."""
    reader_table = pd.read_csv(readers, keep_default_na=False, na_values=[""]).assign(
        binormal_note=lambda f: f["binormal_note"].fillna("")
    )
    design = pd.read_csv(key, keep_default_na=False)
    power_table = pd.read_csv(power)
    counts = design["truth"].value_counts()
    models = reader_table.loc[reader_table["kind"] == "model", "reader"].tolist()
    humans = reader_table.loc[reader_table["kind"] == "human", "reader"].tolist()
    this_kit = power_table.iloc[0]
    notes = [
        f"Design: {len(design)} cases ({counts.get('synthetic', 0)} synthetic, "
        f"{counts.get('real', 0)} held-out real), shuffled with neutral ids; the key is kept apart from "
        "the kit (results/reader_study/kit).",
        (
            f"Readers: {len(humans)} human"
            if humans
            else "Readers: no human reader yet (add their rating files to reader_study.ratings)"
        )
        + (f"; automated observer (a model, not a radiologist): {', '.join(models)}" if models else ""),
        f"Power: an observer at chance would get AUC 0.5 +- {this_kit['ci_half_width_at_chance']:.3f} "
        "(95 % CI) with this kit; "
        + "; ".join(
            f"{row['design']}: {int(row['cases'])} cases" for _, row in power_table.iloc[1:].iterrows()
        ),
    ]
    pooled_table = pd.read_csv(pooled)  # header only when fewer than two human readers
    if not pooled_table.empty:
        row = pooled_table.iloc[0]
        notes.append(
            f"Random-reader test (Obuchowski-Rockette, DeLong covariances, Hillis df = {row['df']:.1f}): "
            f"mean AUC {row['mean_auc']:.3f} [{row['low']:.3f}, {row['high']:.3f}], p = {row['p']:.3f}."
        )
    notes += [f"Warning: {line}" for line in Path(warnings).read_text().splitlines() if line.strip()]
    notes += [
        f"{r.reader}: binormal fit not shown ({r.binormal_note})"
        for r in reader_table.itertuples()
        if r.binormal_note
    ]
    return [
        Section(
            "Reader study: real or synthetic?",
            "Each reader rated every case of the blinded kit from Definitely real (1) to Definitely "
            "synthetic (5). Synthetic is the positive class: AUC 0.5 means the reader cannot tell "
            "generated from real images. "
            "Points: the empirical ROC (AUC = Mann-Whitney, 95 % CI by DeLong); dashed: the binormal "
            "maximum-likelihood fit. The study had one radiologist, 53 images, and no interval (AUC 0.49).",
            figure=figures.to_data_uri(figures.roc_curves(reader_table, pd.read_csv(points))),
            table_html=_html_table(pd.read_csv(summary, dtype=str, keep_default_na=False), index=False),
            notes=notes,
        )
    ]
