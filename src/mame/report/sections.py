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
    *,
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
                "audit",
                table_html=html_table(wide.fillna(0).astype(int)),
                sources=list(audits.values()),
            )
        )
    notes = [format_note] if format_note else []
    if dataset_notes:
        notes += [f"{row.dataset}: {row.note}" for row in _table(dataset_notes).itertuples()]
    return [
        Section(
            "Datasets",
            "dataset_table",
            table_html=html_table(_table(dataset_table, 1)),
            notes=notes,
            sources=[dataset_table, *([dataset_notes] if dataset_notes else [])],
        ),
        *audit_sections,
        Section(
            "Rejected files",
            "rejects",
            table_html=html_table(reject_table, index=False)
            if len(reject_table)
            else "<p>No file was rejected.</p>",
            sources=[rejects],
        ),
        _figure_section("Raw to processed", "raw_vs_processed", raw_vs_processed),
        _figure_section("Image-mask pairs", "image_mask_pairs", image_mask),
        _figure_section("Image-prompt pairs", "image_prompt_pairs", image_prompt),
    ]


def _figure_section(title: str, key: str, figure: str, **fields) -> Section:
    """A section around one figure, the figure its first source."""
    sources = [figure, *fields.pop("sources", [])]
    return Section(title, key, figure=data_uri(figure), sources=sources, **fields)


def training_sections(
    *, loss_curves: str, loss_table: str, validation: dict[str, str], metrics: str = ""
) -> list[Section]:
    """Section 2: loss curves and the loss table of every model; the validation metrics over steps
    where a run kept them; validation images over training."""
    sections = [
        _figure_section(
            "Loss curves",
            "loss_curves",
            loss_curves,
            table_html=html_table(_table(loss_table), index=False),
            sources=[loss_table],
        )
    ]
    if metrics:
        sections.append(_figure_section("Metrics during training", "validation_metrics", metrics))
    return sections + [
        _figure_section(f"Validation images over training: {name}", "validation", figure)
        for name, figure in validation.items()
    ]


def guidance_grid_sections(*, grids: dict[str, str], samples: dict[str, str]) -> list[Section]:
    """Samples over guidance, one grid per model, with the sampler and steps its sweep used."""
    sections = []
    for model, grid in grids.items():
        steps = int(pd.read_csv(samples[model], usecols=["steps"])["steps"].iloc[0])
        sections.append(
            _figure_section(
                f"Samples over guidance: {model}",
                "guidance_grid",
                grid,
                notes=[f"DPM-Solver multistep, {steps} steps."],
                sources=[samples[model]],
            )
        )
    return sections


def msssim_sections(*, table: str, contrasts: str, per_model: list[str]) -> list[Section]:
    """MS-SSIM by guidance (the wide table) and its seed-paired contrasts against the lowest scale."""
    scales = sorted({int(s) for path in per_model for s in pd.read_csv(path, usecols=["scales"])["scales"]})
    return [
        Section(
            "MS-SSIM by guidance",
            "msssim",
            table_html=html_table(_table(table, 1)),
            notes=[f"MS-SSIM scales at this image size: {', '.join(map(str, scales))}."],
            sources=[table, *per_model],
        ),
        Section(
            "MS-SSIM against the lowest guidance, paired by seed",
            "msssim_contrasts",
            table_html=html_table(contrast_view(_table(contrasts))),
            sources=[contrasts],
        ),
    ]


def separability_section(*, table: str) -> Section:
    """Real vs synthetic: a cross-validated observer's AUC per model and guidance."""
    shown = ["model", "guidance", "real", "synthetic", "auc", "ci_low", "ci_high", "ci_method"]
    return Section(
        "Real vs synthetic",
        "separability",
        table_html=html_table(_table(table)[shown], index=False),
        sources=[table],
    )


def distribution_section(*, table: str, figure: str, inception: str) -> Section:
    """FD, KID and PRDC in the domain feature space, with the standard Inception FID where computed."""
    distribution_table = _table(table)
    cells = distribution_table[["model", "guidance", "compared", "n"]].copy()
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
    return _figure_section(
        "Distribution metrics in a domain feature space",
        "distribution",
        figure,
        table_html=html_table(cells, index=False),
        notes=[inception_text(inception)],
        sources=[table, inception],
    )


def fidelity_sections(
    *, table: str, confusion: str, tradeoff: str, confusion_guidance: float
) -> list[Section]:
    """Fidelity against diversity over guidance, and the confusion matrices at one guidance scale."""
    return [
        _figure_section(
            "Fidelity and diversity against guidance",
            "fidelity_and_diversity",
            tradeoff,
            table_html=html_table(fidelity_view(_table(table)), index=False),
            sources=[table],
        ),
        Section(
            f"Fidelity confusion matrices at guidance {confusion_guidance:g}",
            "fidelity_confusion",
            table_html=html_table(confusion_view(_table(confusion), confusion_guidance)),
            sources=[confusion],
        ),
    ]


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


def extrapolation_sections(*, agreements: dict[str, str], figures: dict[str, str]) -> list[Section]:
    """Section 4: the fusion model asked for attribute values a vendor's data never captioned."""
    return [
        _figure_section(
            f"Concept extrapolation: {model}",
            "extrapolation",
            figures[model],
            table_html=html_table(_table(agreement), index=False),
            sources=[agreement],
        )
        for model, agreement in agreements.items()
    ]


def inpainting_sections(*, tables: dict[str, str], figures: dict[str, str]) -> list[Section]:
    """Section 4 (cont.): lesions painted into held-out healthy images, and how much changed outside."""
    sections = []
    for model, path in tables.items():
        table = _table(path)
        sections.append(
            _figure_section(
                f"Lesion inpainting: {model}",
                "inpainting",
                figures[model],
                table_html=html_table(
                    table[["box", "mean_change_inside", "max_change_outside"]].round(2), index=False
                ),
                notes=[
                    f"Largest change outside the box: {int(table['max_change_outside'].max())} grey levels."
                ],
                sources=[path],
            )
        )
    return sections


def full_field_inpainting_sections(
    *, tables: dict[str, str], validations: dict[str, str], figures: dict[str, str]
) -> list[Section]:
    """Section 4 (cont.): lesions painted into full-field images at their own resolution, what changed
    beyond the feather, the seam, and the DICOM files' validation."""
    sections = []
    for model, path in tables.items():
        table = _table(path)
        if table.empty:
            continue
        summary = json.loads(Path(validations[model]).read_text())
        shown = table[
            ["full_height", "full_width", "full_box", "window_scale", "spacing_row_mm", "spacing_col_mm"]
            + ["mean_change_inside", "max_change_outside", "seam_ratio"]
        ]
        notes = [
            f"Largest change beyond the feather: {int(table['max_change_outside'].max())} of 65535 levels.",
            f"Seam energy over the original's on the same border: median {table['seam_ratio'].median():.2f} "
            "(1: as smooth as the image itself).",
            f"DICOM: {summary['files']} files, {summary['validator']}: {summary['dciodvfy_errors']} errors, "
            f"{summary['files_with_problems']} files with problems.",
        ]
        sections.append(
            _figure_section(
                f"Full-field lesion inpainting: {model}",
                "full_field_inpainting",
                figures[model],
                table_html=html_table(shown.round(4), index=False),
                notes=notes,
                sources=[path, validations[model]],
            )
        )
    return sections


def memorization_section(*, histograms: str, summary: str) -> Section:
    """Section 6: how close samples come to training images, against held-out real images.

    `summary` is the evaluation stage's table (results/tables/memorization.csv), shown as computed there."""
    return _figure_section(
        "Memorization",
        "memorization",
        histograms,
        table_html=html_table(_table(summary, 2)),
        sources=[summary],
    )


def copy_detection_section(*, table: str) -> Section:
    """The aligned-pixel and feature-space copy detectors with their planted-copy detection rates."""
    return Section(
        "Copies: aligned pixels and domain features",
        "copy_detection",
        table_html=html_table(_table(table), index=False),
        sources=[table],
    )


def reader_study_sections(
    *, readers: str, pooled: str, power: str, summary: str, key: str, warnings: str, roc: str
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
        _figure_section(
            "Reader study: real or synthetic?",
            "reader_study",
            roc,
            table_html=html_table(pd.read_csv(summary, dtype=str, keep_default_na=False), index=False),
            notes=notes,
            sources=[summary, readers, pooled, power],
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


def export_sections(*, summaries: dict[str, str]) -> list[Section]:
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
            "dicom_export",
            table_html=html_table(pd.DataFrame(rows), index=False),
            sources=list(summaries.values()),
        )
    ]


def _with_interval(value: float, low: float, high: float, signed: bool = False) -> str:
    if pd.isna(value):
        return ""
    spec = "+.3f" if signed else ".3f"
    return f"{value:{spec}} [{low:{spec}}, {high:{spec}}]"


def superres_section(*, table: str, figure: str, samples: list[str]) -> Section:
    """Section: the upscaler against interpolation on held-out full fields, and the upscaled samples."""
    summary = pd.read_csv(table)
    rows = summary.to_dict("records")
    cells = pd.DataFrame(
        {
            "method": summary["method"],
            "metric": summary["metric"],
            "mean [95 % CI]": [_with_interval(r["mean"], r["low"], r["high"]) for r in rows],
            "n": summary["n"],
            "vs bicubic": [
                _with_interval(r.get("vs_reference"), r.get("vs_low"), r.get("vs_high"), signed=True)
                if "vs_reference" in r
                else ""
                for r in rows
            ],
        }
    )
    notes = []
    for r in rows:
        if r["method"] != "upscaler" or pd.isna(r.get("vs_low")):
            continue
        if r["vs_low"] > 0:
            verdict = "better than bicubic (the interval of the difference lies above 0)"
        elif r["vs_high"] < 0:
            verdict = "worse than bicubic (the interval of the difference lies below 0)"
        else:
            verdict = "not distinguishable from bicubic (the interval of the difference spans 0)"
        notes.append(f"{r['metric']}: the upscaler is {verdict}.")
    upscaled = pd.concat([pd.read_csv(path) for path in samples], ignore_index=True) if samples else None
    if upscaled is not None and len(upscaled):
        notes.append(
            f"{len(upscaled)} samples upscaled x{int(upscaled['factor'].iloc[0])} to "
            f"{int(upscaled['height'].iloc[0])} x {int(upscaled['width'].iloc[0])} px, "
            f"{upscaled['seconds'].median():.1f} s each (median)."
        )
    return _figure_section(
        "Super-resolution",
        "superres",
        figure,
        table_html=html_table(cells, index=False),
        notes=notes,
        sources=[table, *samples],
    )


def full_field_distribution_section(*, table: str) -> Section:
    """Section: FD / KID / PRDC at the full field, upscaled samples and full-field lesions against real
    patches, each block with its baselines and its real-vs-real floor."""
    frame = _table(table)
    cells = frame[["stage", "model", "method", "compared", "n"]].copy()
    notes = []
    for name in ("fd", "kid", "precision", "recall", "density", "coverage"):
        if name not in frame.columns:
            continue
        cells[name] = [
            f"{float(v):.3g} [{float(lo):.3g}, {float(hi):.3g}]" if str(v) != "" else ""
            for v, lo, hi in zip(frame[name], frame[f"{name}_low"], frame[f"{name}_high"], strict=True)
        ]
    for (stage, model), rows in frame.groupby(["stage", "model"], sort=False):
        if "fd" not in rows.columns or (rows["compared"] == "too few patches").any():
            notes.append(f"{stage}, {model}: too few patches for the metrics (n is given per set).")
            continue
        fd = {
            r["method"]: (float(r["fd"]), float(r["fd_low"]), float(r["fd_high"]))
            for r in rows.to_dict("records")
        }
        best = min((m for m in fd if m != "real"), key=lambda m: fd[m][0], default=None)
        if best is None:
            continue
        others = [m for m in fd if m not in ("real", best)]
        apart = all(fd[best][2] < fd[m][1] for m in others)
        notes.append(
            f"{stage}, {model}: {best} has the lowest FD"
            + (" and its interval lies below the others'." if apart else "; the intervals overlap.")
        )
    return Section(
        "Distribution metrics at the full field",
        "full_field_distribution",
        table_html=html_table(cells, index=False),
        notes=notes,
        sources=[table],
    )


def experiments_section(*, table: str, figure: str) -> Section:
    """Section: each hyperparameter grid's points against their reference model, with intervals; the
    notes name a best point only where its interval clears the others'."""
    from mame.evaluation.experiments import verdicts

    frame = pd.read_csv(table, keep_default_na=False)
    for column in ("value", "low", "high"):
        frame[column] = frame[column].astype(float)
    fixed = ["experiment", "model", "role", "guidance", "metric", "value", "low", "high", "n"]
    keys = [c for c in frame.columns if c not in fixed]
    cells = frame[["experiment", "model", "role", *keys, "metric"]].copy()
    records = frame.to_dict("records")
    cells["value [95 % CI]"] = [_with_interval(r["value"], r["low"], r["high"]) for r in records]
    cells["n"] = frame["n"]
    guidance = frame["guidance"].iloc[0] if len(frame) else ""
    return _figure_section(
        "Hyperparameter experiments",
        "experiments",
        figure,
        table_html=html_table(cells, index=False),
        notes=[f"Read at guidance {guidance}.", *verdicts(frame)],
        sources=[table],
    )


def utility_sections(*, table: str, figure: str, runs: str) -> list[Section]:
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
        _figure_section(
            "Does synthetic data help?",
            "utility",
            figure,
            table_html=html_table(cells, index=False),
            notes=[
                f"{seeds} seeds; {len(run_table)} classifiers in all. " + "; ".join(design) + ".",
                verdict(summary),
                *skipped,
            ],
            sources=[table, runs],
        )
    ]
