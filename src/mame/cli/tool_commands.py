"""`mame` subcommands around the workflow: check-config, cluster-check, export-dicom, gui."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_check_config(sub) -> None:
    p = sub.add_parser(
        "check-config", help="validate a config file as the workflow does (schema and cross-checks)"
    )
    p.add_argument("config")
    p.set_defaults(func=_cmd_check_config)


def _cmd_check_config(args: argparse.Namespace) -> int:
    from mame.config import load_config

    load_config(args.config)
    print(f"{args.config}: valid")
    return 0


def add_cluster_check(sub) -> None:
    p = sub.add_parser(
        "cluster-check",
        help="before submitting: every job's threads, memory, GPUs and time against the site's partitions",
    )
    p.add_argument("targets", nargs="*", default=["results/report.html"], help="as for snakemake")
    p.add_argument("--profile", default="profiles/slurm", help="the SLURM profile the run will use")
    p.add_argument("--configfile", nargs="+", default=[], help="config file(s) the run will use")
    p.add_argument("--snakefile", default="Snakefile")
    p.add_argument("--sinfo", help='a saved `sinfo -h -o "%%P|%%c|%%m|%%G|%%l"` (default: run sinfo)')
    p.set_defaults(func=_cmd_cluster_check)


def _cmd_cluster_check(args: argparse.Namespace) -> int:
    import yaml

    from mame.cluster.check import check_jobs
    from mame.cluster.jobs import planned_jobs
    from mame.cluster.site import accounting_problem, default_partition, parse_sinfo, sinfo_text

    text = Path(args.sinfo).read_text() if args.sinfo else sinfo_text()
    site = parse_sinfo(text)
    profile = yaml.safe_load((Path(args.profile) / "config.yaml").read_text()) or {}
    partition_file = profile.get("slurm-partition-config")
    extra = ["--profile", args.profile, *(["--configfile", *args.configfile] if args.configfile else [])]
    jobs, hidden = planned_jobs(Path(args.snakefile), args.targets, extra)
    findings = check_jobs(
        jobs, site, Path(partition_file) if partition_file else None, default_partition(text)
    )
    print(f"{len(jobs)} jobs checked against {len(site)} partitions ({', '.join(site)})")
    for finding in findings:
        print(
            f"NEVER STARTS  {finding.job} on {finding.partition}: {finding.problem}. Change: {finding.change}"
        )
    if hidden:
        print(
            "Jobs behind a checkpoint (conversion, training, sampling) join the DAG once the index has run: "
            "run `snakemake --until index` with the same profile and config, then this check again."
        )
    if not args.sinfo:
        problem = accounting_problem()
        if problem and profile.get("slurm-status-command") != "squeue":
            print(f"sacct cannot report job states here ({problem}): set slurm-status-command: squeue")
    print("OK: every job fits its partition" if not findings else f"{len(findings)} job(s) would never start")
    return 1 if findings else 0


def add_export_dicom(sub) -> None:
    p = sub.add_parser(
        "export-dicom", help="a sweep's samples (samples.csv) as validated DICOM Secondary Capture files"
    )
    p.add_argument("samples", help="samples.csv of a sweep (file, model, prompt, guidance, seed, steps ...)")
    p.add_argument("out", help="folder for the .dcm files; <out>.csv and <out>.json get the validation")
    p.add_argument("--base", default=".", help="folder the samples' file paths are relative to")
    p.set_defaults(func=_cmd_export_dicom)


def _cmd_export_dicom(args: argparse.Namespace) -> int:
    import pandas as pd

    from mame.export.sweep import export_sweep

    out = Path(args.out)
    samples = pd.read_csv(args.samples, keep_default_na=False)
    summary = export_sweep(samples, out, out.with_suffix(".csv"), out.with_suffix(".json"), base=args.base)
    print(json.dumps(summary, indent=2))
    return 0 if summary["passed"] else 1


def add_gui(sub) -> None:
    p = sub.add_parser("gui", help="browser app: generate mammograms and paint lesions (Gradio)")
    p.add_argument("--model", default="results/models/fusion/pipeline", help="text-to-image pipeline dir")
    p.add_argument(
        "--inpaint-model", default="results/models/lesions/pipeline", help="inpainting pipeline dir"
    )
    p.add_argument(
        "--data", default="results/data", help="processed data: held-out healthy images to paint on"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument(
        "--share", action="store_true", help="also open a public gradio.live link (off by default)"
    )
    p.add_argument("--max-images", type=int, default=8, help="images per request at most")
    p.add_argument("--max-steps", type=int, default=100, help="sampling steps per request at most")
    p.set_defaults(func=_cmd_gui)


def _cmd_gui(args: argparse.Namespace) -> int:
    try:
        import gradio  # noqa: F401
    except ImportError:
        print("mame gui: the GUI needs Gradio, an optional part: pip install 'mame[gui]'", file=sys.stderr)
        return 2
    from mame.gui.app import GuiSettings, launch

    settings = GuiSettings(
        model=args.model,
        inpaint_model=args.inpaint_model,
        data=args.data,
        max_images=args.max_images,
        max_steps=args.max_steps,
    )
    launch(settings, host=args.host, port=args.port, share=args.share)
    return 0


def register(sub) -> None:
    add_check_config(sub)
    add_cluster_check(sub)
    add_export_dicom(sub)
    add_gui(sub)
