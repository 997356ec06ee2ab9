"""Rule tiny_upscaler: the demo's tiny super-resolution base (SD x4 upscaler architecture, x factor)."""

from mame.logs import log_to

log_to(snakemake.log[0])

import torch  # noqa: E402

from mame.models.components import TinySpec  # noqa: E402
from mame.models.upscaler import build_tiny_upscaler  # noqa: E402

torch.set_num_threads(snakemake.threads)
tiny, superres = snakemake.params.tiny, snakemake.params.superres
spec = TinySpec(
    resolution=superres["patch"],
    vae_channels=tuple(tiny["vae_channels"]),
    unet_channels=tuple(tiny["unet_channels"]),
    text_hidden=tiny["text_hidden"],
    seed=tiny["seed"],
)
build_tiny_upscaler(
    manifests=snakemake.input.manifests,
    output=snakemake.output[0],
    spec=spec,
    factor=snakemake.params.factor,
    patch=superres["patch"],
    vae_steps=superres["vae_steps"],
    vendors=snakemake.params.vendors,
    patches_per_image=superres["patches_per_image"],
    vae_batch_size=min(8, tiny["vae_batch_size"]),
    tokenizer_from=snakemake.input.base or None,
)
