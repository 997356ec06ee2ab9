"""Rule fidelity: real-trained attribute classifiers (area: its definition) read the samples among the
asked values; the share read as asked per guidance, and the confusion matrix."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.evaluation.fidelity import classify_attributes, fidelity_by_guidance, fidelity_confusion  # noqa: E402
from mame.io import read_manifests  # noqa: E402

samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
verdicts = classify_attributes(
    samples, read_manifests(snakemake.input.real), area_thresholds=tuple(snakemake.params.area_thresholds)
)
model = snakemake.wildcards.model
fidelity_by_guidance(verdicts).assign(model=model).to_csv(snakemake.output.fidelity, index=False)
fidelity_confusion(verdicts).assign(model=model).to_csv(snakemake.output.confusion, index=False)
