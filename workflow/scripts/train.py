"""Rules finetune / train_inpaint: fine-tune one model from its manifests; resumes from checkpoints."""

from mame.logs import log_to

log_to(snakemake.log[0])

import torch  # noqa: E402

from mame.models import resolve_model  # noqa: E402
from mame.train import Trainer, TrainSettings  # noqa: E402

torch.set_num_threads(snakemake.threads)
key = "models.inpaint_base" if snakemake.params.inpainting else "models.base"
trainer = Trainer(
    base=resolve_model(snakemake.params.base, key),
    manifests=snakemake.input.manifests,
    output=snakemake.output.pipeline,
    checkpoints=snakemake.params.checkpoints,
    settings=TrainSettings.from_dict(snakemake.params.settings),
    inpainting=snakemake.params.inpainting,
    inpaint_prompt=snakemake.params.prompt or "a mammogram with a lesion",
    widen_unet=snakemake.params.widen_unet,
    model_name=snakemake.wildcards.model,
)
trainer.run()
