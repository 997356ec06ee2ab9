"""Rules downstream_task / downstream_cross_vendor: one utility experiment; its runs and its summary."""

from mame.logs import log_to

log_to(snakemake.log[0])

import logging  # noqa: E402

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from mame.evaluation.downstream import UtilitySettings, UtilitySkipped, build_experiment  # noqa: E402


def read(name: str) -> pd.DataFrame | None:
    """An input table by name; None when this experiment has no such input."""
    paths = dict(snakemake.input.items())
    return pd.read_csv(paths[name], keep_default_na=False) if paths.get(name) else None


torch.set_num_threads(snakemake.threads)
settings = snakemake.params.settings
task = settings["task"]
cross_vendor = "train" in task
name = f"{task['attribute']}, {task['train']} -> {task['test']}" if cross_vendor else snakemake.wildcards.task
try:
    experiment = build_experiment(
        name,
        task,
        UtilitySettings.from_config(settings),
        settings["guidance"],
        int(settings["image_size"]),
        read("healthy"),
        read("samples"),
        other=read("other"),
        lesions=read("lesions"),
        inpainted=read("inpainted"),
    ).run()
    experiment.runs_table().to_csv(snakemake.output.runs, index=False)
    experiment.summary().to_csv(snakemake.output.summary, index=False)
except UtilitySkipped as reason:  # logged and shown in the report, not a failed run
    logging.getLogger("mame.utility").warning("skipped: %s", reason)
    pd.DataFrame({"task": [name], "skipped": [str(reason)]}).to_csv(snakemake.output.summary, index=False)
    pd.DataFrame({"task": [name], "skipped": [str(reason)]}).to_csv(snakemake.output.runs, index=False)
