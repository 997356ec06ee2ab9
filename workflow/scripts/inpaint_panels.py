"""Rule inpaint_panels: synthetic lesions painted into held-out healthy images (before/mask/after)."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from mame.io import in_split, read_manifests  # noqa: E402
from mame.plotting import save_png  # noqa: E402
from mame.sampling.figures import inpainting_panels  # noqa: E402
from mame.sampling.inpaint import inpaint_panels, painting_backgrounds  # noqa: E402
from mame.sampling.sweep import load_pipeline  # noqa: E402

torch.set_num_threads(snakemake.threads)
lesions = read_manifests(snakemake.input.lesions, column="boxes")
settings = snakemake.params.sampling
rows = inpaint_panels(
    load_pipeline(snakemake.input.pipeline, inpainting=True),
    painting_backgrounds(read_manifests(snakemake.input.healthy, column="image")),
    in_split(lesions)["boxes"].tolist(),
    snakemake.params.panels,
    snakemake.output.panels,
    seed=settings["seed"],
    prompt=snakemake.params.prompt,
    steps=settings["steps"],
)
table = pd.DataFrame(rows).assign(model=snakemake.wildcards.model)
table.to_csv(snakemake.output.table, index=False)
save_png(inpainting_panels(table, snakemake.wildcards.model), snakemake.output.figure)
