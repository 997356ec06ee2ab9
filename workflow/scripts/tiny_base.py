"""Rule tiny_base: the demo's tiny SD-architecture base (text-to-image and inpainting variants)."""

from mame.logs import log_to

log_to(snakemake.log[0])

import torch  # noqa: E402

from mame.models.components import TinySpec  # noqa: E402
from mame.models.tiny import build_tiny_base  # noqa: E402

torch.set_num_threads(snakemake.threads)
tiny = snakemake.params.tiny
spec = TinySpec(
    resolution=tiny["resolution"],
    vae_channels=tuple(tiny["vae_channels"]),
    unet_channels=tuple(tiny["unet_channels"]),
    text_hidden=tiny["text_hidden"],
    text_length=tiny["text_length"],
    seed=tiny["seed"],
    family=tiny["family"],
    prediction_type=tiny["prediction_type"],
)
build_tiny_base(
    manifests=snakemake.input.manifests,
    output=snakemake.output.base,
    inpainting_output=snakemake.output.inpainting,
    vendors=snakemake.params.vendors,
    spec=spec,
    vae_steps=tiny["vae_steps"],
    vae_batch_size=tiny["vae_batch_size"],
    vae_crop=tiny["vae_crop"],
)
