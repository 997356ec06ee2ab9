"""The report's sections: each stage's figures and tables, read from the files the stage wrote, with a
caption. Nothing here computes a number or draws a figure: what the report shows is what the stages'
tables hold (results/tables) and what their figures show (results/figures)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mame.io import read_pixels
from mame.plotting import data_uri
from mame.report.render import Section, html_table
from mame.stats.auc import format_p


def _p_text(p: float) -> str:
    shown = format_p(p)
    return shown if shown.startswith("<") else f"= {shown}"


def _table(path: str | Path, index_levels: int = 0) -> pd.DataFrame:
    """A stage's table as written: text kept as text, its index columns as the index."""
    frame = pd.read_csv(path, keep_default_na=False)
    return frame.set_index(list(frame.columns[:index_levels])) if index_levels else frame


def image_format(convert: dict, samples: list[str]) -> str:
    """Which bit depth and shape this run used: the processed images as configured, the samples as
    written (read from the first sample of the first sweep)."""
    size = convert["size"]
    height, width = (size, size) if isinstance(size, int) else size
    text = (
        f"Processed images: {convert['bit_depth']}-bit grey PNG, {height} x {width} px (height x width), "
        f"{convert['crop']} crop, {convert['intensity']} intensity."
    )
    if samples:
        first = pd.read_csv(samples[0], usecols=["file"])["file"]
        if len(first):
            pixels = read_pixels(first.iloc[0])
            bits, (rows, cols) = 8 * pixels.dtype.itemsize, pixels.shape
            text += f" Samples: {bits}-bit grey PNG, {rows} x {cols} px."
    return text


def data_sections(
    dataset_table: str,
    rejects: str,
    raw_vs_processed: str,
    image_mask: str,
    image_prompt: str,
    format_note: str = "",
    audits: dict[str, str] | None = None,
    dataset_notes: str | None = None,
) -> list[Section]:
    """Section 1: the dataset table, the pre-flight audit, rejects, raw -> processed, image-mask and
    image-prompt pairs."""
    reject_table = _table(rejects)
    audit_sections = []
    if audits:
        joined = pd.concat(
            [_table(path).assign(dataset=name) for name, path in audits.items()], ignore_index=True
        )
        wide = joined.pivot_table(index=["section", "value"], columns="dataset", values="files", sort=False)
        audit_sections.append(
            Section(
                "Pre-flight audit",
                "What each dataset root holds, read from headers only before any conversion or training: "
                "files by manufacturer, view, laterality, presentation intent, transfer syntax, bit depth "
                "and photometric interpretation; what the index rejects and why; header/table mismatches; "
                "lesions by category; patients (`mame audit ROOT --adapter A` prints the same page).",
                table_html=html_table(wide.fillna(0).astype(int)),
            )
        )
    return [
        Section(
            "Datasets",
            "Images per dataset after filtering and conversion: healthy images become image-prompt pairs "
            "for the conditional models, images with a lesion of a selected category become image-mask "
            "pairs for inpainting (the study's dataset table).",
            table_html=html_table(_table(dataset_table, 1)),
            notes=([format_note] if format_note else [])
            + (
                [f"{row.dataset}: {row.note}" for row in _table(dataset_notes).itertuples()]
                if dataset_notes
                else []
            ),
        ),
        *audit_sections,
        Section(
            "Rejected files",
            "Every file that did not become a training image, counted by stage and reason; "
            "results/data/<dataset>/rejects.csv lists each by its pseudonymous key.",
            table_html=html_table(reject_table, index=False)
            if len(reject_table)
            else "<p>No file was rejected.</p>",
        ),
        Section(
            "Raw to processed",
            "Top: the raw DICOM after its VOI transform, lesion boxes as the dataset's tables give them. "
            "Bottom: the processed image and the same boxes moved by the one geometry transform "
            "(crop, flip of right breasts, resize, pad) that moved the pixels.",
            figure=data_uri(raw_vs_processed),
        ),
        Section(
            "Image-mask pairs",
            "Inpainting training pairs: processed image with a lesion and its mask (255 inside every "
            "lesion box of a selected category, 0 elsewhere).",
            figure=data_uri(image_mask),
        ),
        Section(
            "Image-prompt pairs",
            "Healthy training images with their captions, built by the one prompt builder "
            "(area for Hologic-like data, density for Siemens-like data, as in the study).",
            figure=data_uri(image_prompt),
        ),
    ]


def training_sections(loss_curves: str, loss_table: str, validation: dict[str, str]) -> list[Section]:
    """Section 2: loss curves and the loss table of every model; validation images over training."""
    sections = [
        Section(
            "Loss curves",
            "Epsilon-prediction MSE per optimizer step (faint) and its moving average, for every fine-tuned "
            "and inpainting model; log scale.",
            figure=data_uri(loss_curves),
            table_html=html_table(_table(loss_table), index=False),
        )
    ]
    for name, figure in validation.items():
        sections.append(
            Section(
                f"Validation images over training: {name}",
                "The same prompts and the same seed at successive training steps (top to bottom): the "
                "study's 'denoising process at epoch ...' figure. Each column's prompt is printed under it.",
                figure=data_uri(figure),
            )
        )
    return sections


def guidance_sections(
    grids: dict[str, str],
    samples: list[str],
    diversity: list[str],
    msssim_wide: str,
    msssim_contrasts: str,
    separability: str,
    distribution: str,
    distribution_plot: str,
    inception: str,
    fidelity: str,
    confusion: str,
    confusion_guidance: float,
    tradeoff: str,
) -> list[Section]:
    """Section 3: samples over guidance, the MS-SSIM table, separability, fidelity against diversity."""
    sections = []
    for (model, grid), path in zip(grids.items(), samples, strict=True):
        steps = int(pd.read_csv(path, usecols=["steps"])["steps"].iloc[0])
        sections.append(
            Section(
                f"Samples over guidance: {model}",
                "The first seed of every prompt (rows) at each guidance scale (columns): the same starting "
                f"noise under growing classifier-free guidance. DPM-Solver multistep, {steps} steps.",
                figure=data_uri(grid),
            )
        )
    scales = sorted({int(s) for path in diversity for s in pd.read_csv(path, usecols=["scales"])["scales"]})
    sections.append(
        Section(
            "MS-SSIM by guidance",
            "Mean pairwise MS-SSIM of each model's samples per prompt and guidance (± sd over pairs, "
            "bootstrap 95 % CI over images), and among real training images of the same condition (last "
            f"row). Original definition, data range 255, one channel, {', '.join(map(str, scales))} "
            "scale(s) at this image size. Lower means more diverse.",
            table_html=html_table(_table(msssim_wide, 1)),
        )
    )
    sections.append(
        Section(
            "MS-SSIM against the lowest guidance, paired by seed",
            "Each guidance scale's mean pairwise MS-SSIM minus the lowest scale's, over the seeds both share "
            "(image i of every scale starts from the same noise), with a bootstrap 95 % CI that resamples "
            "seeds jointly. Above 0: less diverse than at the lowest guidance.",
            table_html=html_table(contrast_view(_table(msssim_contrasts))),
        )
    )
    separability_table = _table(separability)
    sections.append(
        Section(
            "Real vs synthetic",
            "Cross-validated AUC of a logistic regression (the fidelity features) telling each model's "
            "samples from real training images of the same conditions (vendor, view, area / density: as "
            "many per condition as samples; conditions no real image has are left out), per guidance "
            "scale. Folds keep a woman's images and a seed's samples together; the AUC is the mean over "
            "folds with the influence-curve 95 % CI of a cross-validated AUC (LeDell 2015), Newcombe's "
            "where that reaches 0 or 1. 0.5 = this observer cannot tell them apart; 1 = always can.",
            table_html=html_table(
                separability_table[
                    ["model", "guidance", "real", "synthetic", "auc", "ci_low", "ci_high", "ci_method"]
                ],
                index=False,
            ),
        )
    )
    distribution_table = _table(distribution)
    shown = ["model", "guidance", "compared", "n"]
    cells = distribution_table[shown].copy()
    for name in ("fd", "kid", "precision", "recall", "density", "coverage"):
        cells[name] = [
            f"{v:.3g} [{lo:.3g}, {hi:.3g}]"
            for v, lo, hi in zip(
                distribution_table[name],
                distribution_table[f"{name}_low"],
                distribution_table[f"{name}_high"],
                strict=True,
            )
        ]
    sections.append(
        Section(
            "Distribution metrics in a domain feature space",
            "Frechet distance, KID (unbiased, cubic kernel) and precision / recall / density / coverage "
            "(k = 5) of each model's samples against n of its real training images, in the feature space "
            "of a small CNN the pipeline trains on the real training images only (view, vendor, area, "
            "density; never a sample). Row 'real': held-out real images (or, when there are fewer than n, "
            "other training images) against the same reference, the floor a perfect generator would "
            "reach. One n per model, so FD's small-sample bias is shared; each value is the mean over fresh "
            "draws of n distinct images from each pool, with the central 95 % range of the draws. The "
            "prompts ask for the attribute extremes while the real set holds every class, so the samples' "
            "distance keeps some of that difference. " + inception_text(inception),
            figure=data_uri(distribution_plot),
            table_html=html_table(cells, index=False),
        )
    )
    sections.append(
        Section(
            "Fidelity and diversity against guidance",
            "Left axis: mean MS-SSIM over prompts (dashed: real images). Right axis: how often "
            "classifiers trained on real images read the view / density / area the prompt asked for, "
            "read among the asked values only (chance = 1/k for k asked values), with Wilson 95 % CIs. "
            "Ceiling: the same reading on real images of the asked values, balanced recall over "
            "patient-grouped folds with the classifier's setting chosen inside each fold (nested). "
            "'Read outside asked': the share an all-class reading puts on values the prompts never ask "
            "for (e.g. medium density). Lower rows: the domain-space Frechet distance and precision / "
            "recall of the same samples (dashed: the real-vs-real floor). More guidance trades diversity "
            "for fidelity; the study described this trade-off in words only.",
            figure=data_uri(tradeoff),
            table_html=html_table(fidelity_view(_table(fidelity)), index=False),
        )
    )
    sections.append(
        Section(
            f"Fidelity confusion matrices at guidance {confusion_guidance:g}",
            "Rows: the value the prompt asked for; columns: the value the real-trained classifier reads "
            "(among the asked values); each cell the share of the row with its Wilson 95 % CI. Every "
            "guidance scale: results/tables/fidelity_confusion.csv.",
            table_html=html_table(confusion_view(_table(confusion), confusion_guidance)),
        )
    )
    return sections


def inception_text(path: str) -> str:
    """Standard Inception FID per model and guidance when its weights were found; else why not."""
    table = pd.read_csv(path, keep_default_na=False)
    computed = table[table["fid"].astype(str) != ""]
    if computed.empty:
        return f"Standard Inception FID: not computed ({table['note'].iloc[0]})."
    values = "; ".join(
        f"{r.model} {r.guidance if r.guidance == 'real' else 'g ' + str(r.guidance)}: {float(r.fid):.1f} "
        f"(n = {r.n})"
        for r in computed.itertuples()
    )
    return f"Standard Inception FID against all {computed['reference'].iloc[0]} training images: {values}."


def _share_text(share: float, low: float, high: float) -> str:
    return f"{share:.2f} [{low:.2f}, {high:.2f}]"


def fidelity_view(table: pd.DataFrame) -> pd.DataFrame:
    """The fidelity table as the report shows it: share read as asked with its CI in one cell."""
    return pd.DataFrame(
        {
            "model": table["model"],
            "attribute": table["attribute"],
            "guidance": table["guidance"],
            "images": table["images"],
            "read as asked [95% CI]": [
                _share_text(*row)
                for row in zip(table["accuracy"], table["ci_low"], table["ci_high"], strict=True)
            ],
            "chance": table["chance"].round(3),
            "real ceiling": table["real_ceiling"],
            "read outside asked": table["read_outside_asked"],
        }
    )


def confusion_view(table: pd.DataFrame, guidance: float) -> pd.DataFrame:
    """One guidance scale's confusion cells as matrices: (model, attribute, asked) rows, read columns."""
    part = table[table["guidance"].astype(float) == float(guidance)]
    if part.empty:
        return pd.DataFrame()
    cells = part.assign(
        cell=[_share_text(*r) for r in zip(part["share"], part["ci_low"], part["ci_high"], strict=True)]
    )
    wide = cells.pivot_table(
        index=["model", "attribute", "asked"], columns="read", values="cell", aggfunc="first", sort=False
    )
    return wide.fillna("").rename_axis(columns="read as")


def extrapolation_sections(models: dict[str, tuple[str, str]]) -> list[Section]:
    """Section 4: the fusion model asked for attribute values a vendor's data never captioned.

    `models`: name -> (agreement table, figure)."""
    return [
        Section(
            f"Concept extrapolation: {model}",
            "Hologic images were only captioned with breast area and Siemens images only with density; "
            "the fusion model is asked for the other attribute (the study's concept extrapolation). "
            "Above each image: what a classifier trained on real images reads (green = as asked).",
            figure=data_uri(figure),
            table_html=html_table(_table(agreement), index=False),
        )
        for model, (agreement, figure) in models.items()
    ]


def inpainting_sections(models: dict[str, tuple[str, str]]) -> list[Section]:
    """Section 4 (cont.): lesions painted into held-out healthy images. `models`: name -> (table, figure)."""
    sections = []
    for model, (path, figure) in models.items():
        table = _table(path)
        sections.append(
            Section(
                f"Lesion inpainting: {model}",
                "Held-out healthy images with a box placed inside the breast (area between the 25th and 75th "
                "percentiles of the training lesion boxes, aspect ratio from their mean ± sd: the study's "
                "procedure), inpainted with the lesion prompt; the original is kept outside the box "
                f"(largest change outside: {int(table['max_change_outside'].max())} grey levels).",
                figure=data_uri(figure),
                table_html=html_table(
                    table[["box", "mean_change_inside", "max_change_outside"]].round(2), index=False
                ),
            )
        )
    return sections


def privacy_sections(histograms: str, summary: str, copies: str | None = None) -> list[Section]:
    """Section 6: how close samples come to training images, against held-out real images.

    `summary` is the evaluation stage's table (results/tables/memorization.csv), shown as computed there;
    `copies` the aligned-pixel and feature-space detectors with their planted-copy detection rates.
    """
    sections = [
        Section(
            "Memorization",
            "For every sample, the Pearson correlation of a 32 x 32 copy with its nearest training image; "
            "held-out real images show how close an unseen mammogram comes by chance (median and 95th "
            "percentile per source). A sample closer than every held-out image (the threshold column, "
            "unless evaluation.memorization_threshold sets one) is flagged; the exceedance p-value asks "
            "whether more samples than exchangeable unseen images would come that close "
            "(metrics/<model>/memorization.csv lists each image).",
            figure=data_uri(histograms),
            table_html=html_table(_table(summary, 2)),
        )
    ]
    if copies:
        sections.append(
            Section(
                "Copies: aligned pixels and domain features",
                "Two further detectors per sample: the correlation of 32 x 32 thumbnails maximised over "
                "shifts of up to 2 pixels and a horizontal flip, and the cosine similarity in the domain "
                "feature space (the encoder of the distribution metrics). Each threshold is the largest "
                "score of half of the held-out real images; the other half gives the false-positive rate. "
                "Rows 'none (samples)': how many samples each flags. The other rows plant copies of "
                "training images (exact, shifted by 5 %, flipped, with 5 % noise) and count how many each "
                "detector catches at its threshold: a detector that misses planted copies says little "
                "when it flags no sample.",
                table_html=html_table(_table(copies), index=False),
            )
        )
    return sections


def reader_study_sections(
    readers: str, pooled: str, power: str, summary: str, key: str, warnings: str, roc: str
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
            f"{row['design']}: "
            + (f"{int(row['cases'])} cases" if pd.notna(row["cases"]) else "out of reach at this reader SD")
            for _, row in power_table.iloc[1:].iterrows()
        )
        + f" (planned for {int(this_kit.get('readers', 1))} reader(s), rating-spread ratio "
        f"{this_kit.get('spread_ratio', 1.0):g}, reader SD {this_kit.get('reader_sd', 0.0):g}).",
    ]
    pooled_table = pd.read_csv(pooled)  # header only when fewer than two human readers
    if not pooled_table.empty:
        row = pooled_table.iloc[0]
        notes.append(
            f"Random-reader test (Obuchowski-Rockette, DeLong covariances, Hillis df = {row['df']:.1f}): "
            f"mean AUC {row['mean_auc']:.3f} [{row['low']:.3f}, {row['high']:.3f}], p {_p_text(row['p'])}; "
            f"equivalent within ± {row['margin']:g} (TOST, same t, df): p {_p_text(row['equivalence_p'])}."
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
            "Points: the empirical ROC (AUC = Mann-Whitney; 95 % CI by DeLong, or by Newcombe's score method "
            "where DeLong's collapses at AUC 0 or 1; p exact where the ratings allow); dashed: the binormal "
            "maximum-likelihood fit. A p of AUC = 0.5 above 0.05 is not equivalence: the TOST column asks "
            "whether the AUC lies within the margin of 0.5. The automated observer's raw probability has its "
            "own AUC beside its 5-point rating. The study had one radiologist, 53 images, and no interval "
            "(AUC 0.49).",
            figure=data_uri(roc),
            table_html=html_table(pd.read_csv(summary, dtype=str, keep_default_na=False), index=False),
            notes=notes,
        )
    ]


def contrast_view(table: pd.DataFrame) -> pd.DataFrame:
    """Paired guidance contrasts as (model, prompt) rows and guidance columns, 'difference [CI]' cells."""
    if table.empty:
        return pd.DataFrame()
    cells = table.assign(
        cell=[
            f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]"
            for d, lo, hi in zip(table["difference"], table["ci_low"], table["ci_high"], strict=True)
        ],
        column=[f"{g:g} vs {r:g}" for g, r in zip(table["guidance"], table["reference"], strict=True)],
    )
    return cells.pivot_table(
        index=["model", "prompt"], columns="column", values="cell", aggfunc="first", sort=False
    )


def export_sections(summaries: dict[str, str]) -> list[Section]:
    """Section 7: where the DICOM exports are, how many files, and what validation said."""
    rows = []
    for model, path in summaries.items():
        summary = json.loads(Path(path).read_text())
        rows.append(
            {
                "model": model,
                "folder": summary["folder"],
                "files": summary["files"],
                "validator": summary["validator"],
                "files with problems": summary["files_with_problems"],
                "dciodvfy errors": summary["dciodvfy_errors"],
                "dciodvfy warnings": summary["dciodvfy_warnings"],
                "result": "passed" if summary["passed"] else "FAILED",
            }
        )
    return [
        Section(
            "Synthetic mammograms as DICOM",
            "Every sample of the guidance sweep as a DICOM Secondary Capture (highdicom): Conversion Type "
            "SYN, Image Type DERIVED\\SECONDARY, Burned In Annotation NO, Modality MG with Image Laterality, "
            "View Position and View Code Sequence from the prompt, MONOCHROME2 at the image's bit depth with "
            "a window from its breast pixels, no Pixel Spacing (a generated pixel has no physical size), "
            "synthetic patient and study identifiers without dates, and the model, prompt, guidance, seed, "
            "sampler and steps in Derivation Description. Each file is checked by dciodvfy (errors fail; "
            "warnings are the mammography attributes a Secondary Capture does not define and the absent "
            "dates) and against every Type 1 and 2 attribute of the SC Image IOD; per-file results in "
            "results/export/dicom/<model>.csv.",
            table_html=html_table(pd.DataFrame(rows), index=False),
        )
    ]


def _with_interval(value: float, low: float, high: float, signed: bool = False) -> str:
    if pd.isna(value):
        return ""
    spec = "+.3f" if signed else ".3f"
    return f"{value:{spec}} [{low:{spec}}, {high:{spec}}]"


def utility_sections(table: str, figure: str, runs: str) -> list[Section]:
    """Section: does synthetic data help a downstream classifier? Design, verdict, figure and table."""
    from mame.evaluation.downstream import skipped_notes, verdict

    summary = pd.read_csv(table)
    run_table = pd.read_csv(runs)
    notes = skipped_notes(summary)
    skipped = [f"Skipped: {note}." for note in notes[notes != ""]]
    summary = summary[notes == ""].reset_index(drop=True)
    run_table = run_table.dropna(subset=["auc"]) if "auc" in run_table.columns else run_table.iloc[:0]
    design = []
    for task, rows in summary.groupby("task", sort=False):
        design.append(
            f"{task} ({rows['classes'].iloc[0]}): {int(rows['test_images'].iloc[0])} held-out real test "
            f"images, {int(rows['real_images'].max())} real training images at 100 %"
        )
    seeds = int(summary["seeds"].max()) if len(summary) else 0
    for column in ("difference", "difference_low", "difference_high", "p"):
        if column not in summary.columns:
            summary[column] = float("nan")
    rows = summary.to_dict("records")
    cells = pd.DataFrame(
        {
            "task": summary["task"],
            "arm": summary["arm"],
            "guidance": ["" if pd.isna(r["guidance"]) else f"{r['guidance']:g}" for r in rows],
            "real share": [f"{r['real_fraction']:.0%}" for r in rows],
            "real / synthetic images": [
                f"{r['real_images']:.0f} / {r['synthetic_images']:.0f}" for r in rows
            ],
            "AUC mean ± sd over seeds": [
                f"{r['auc_mean']:.3f} ± {0 if pd.isna(r['auc_sd']) else r['auc_sd']:.3f}" for r in rows
            ],
            "AUC 95 % CI": [_with_interval(r["auc_mean"], r["auc_low"], r["auc_high"]) for r in rows],
            "vs real only": [
                _with_interval(r["difference"], r["difference_low"], r["difference_high"], signed=True)
                for r in rows
            ],
            "p": ["" if pd.isna(r["p"]) else format_p(r["p"]) for r in rows],
        }
    )
    return [
        Section(
            "Does synthetic data help?",
            "Small CNNs (four strided convolutions, plain torch) trained with a fixed budget of steps on: "
            "real images only; real plus synthetic images at several ratios of the real count; synthetic "
            "pre-training then real fine-tuning; synthetic images only. Each arm at several shares of the "
            "real training images (stratified by class: data scarcity), for each guidance scale of the "
            f"synthetic images, with {seeds} seeds; a seed fixes the real subset, the synthetic draw and "
            "the classifier's initialisation and batches, and is shared by all arms. All are scored on the "
            "same held-out real images, split by patient (cross-vendor: all of the other vendor's real "
            "images). AUC: the positive (last) class for two classes, else the macro average of "
            "one-vs-rest AUCs. 'AUC 95 % CI': DeLong's interval of the mean over seeds (test-case "
            "uncertainty); '± sd': the spread over seeds (training randomness); 'vs real only': the paired "
            "DeLong difference from real only at the same share and seeds (synthetic only: against all "
            f"real images), with its 95 % CI and p. {len(run_table)} classifiers in all "
            "(results/tables/utility_runs.csv lists each with its own DeLong CI). "
            + "; ".join(design)
            + ". "
            + " ".join([verdict(summary), *skipped]),
            figure=data_uri(figure),
            table_html=html_table(cells, index=False),
        )
    ]
