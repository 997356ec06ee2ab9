"""The report's sections: each stage's figures, tables and captions, built from the files the stages wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mame.io import read_manifests
from mame.report import figures
from mame.report.render import Section, html_table


@dataclass
class DatasetFiles:
    """What the report reads of one dataset."""

    name: str
    index: str
    healthy: str
    lesions: str


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
            table_html=html_table(dataset_table),
        ),
        Section(
            "Rejected files",
            "Every file that did not become a training image, counted by stage and reason; "
            "results/data/<dataset>/rejects.csv lists each by its pseudonymous key.",
            table_html=html_table(rejects, index=False) if len(rejects) else "<p>No file was rejected.</p>",
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
            table_html=html_table(pd.DataFrame(rows), index=False),
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
            table_html=html_table(msssim_wide),
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
                table_html=html_table(
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
                table_html=html_table(fidelity_frame.round(3), index=False),
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
                table_html=html_table(agreement.round(3), index=False),
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
                table_html=html_table(
                    table[["box", "mean_change_inside", "max_change_outside"]].round(2), index=False
                ),
            )
        )
    return sections


def privacy_sections(memorization: dict[str, str], summary: pd.DataFrame, threshold: float) -> list[Section]:
    """Section 6: how close samples come to training images, against held-out real images.

    `summary` is the evaluation stage's table (results/tables/memorization.csv), shown as computed there.
    """
    tables = {model: pd.read_csv(path, keep_default_na=False) for model, path in memorization.items()}
    return [
        Section(
            "Memorization",
            "For every sample, the Pearson correlation of a 32 x 32 copy with its nearest training image; "
            "held-out real images show how close an unseen mammogram comes by chance (median and 95th "
            f"percentile per source). Samples above {threshold:g} are flagged as possible copies "
            "(metrics/<model>/memorization.csv lists them).",
            figure=figures.to_data_uri(figures.memorization_histograms(tables, threshold)),
            table_html=html_table(summary),
        )
    ]


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
            table_html=html_table(pd.read_csv(summary, dtype=str, keep_default_na=False), index=False),
            notes=notes,
        )
    ]
