"""Rule audit: the pre-flight audit of one dataset (headers only) as CSV and Markdown."""

from mame.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

from mame.data.audit import audit_dataset, audit_markdown  # noqa: E402
from mame.data.index import filters_from_settings  # noqa: E402

settings = snakemake.params.settings
audit = audit_dataset(
    settings["adapter"],
    settings["root"],
    filters_from_settings(settings),
    table=settings.get("table"),
    workers=snakemake.threads,
)
audit.to_csv(snakemake.output.csv, index=False)
Path(snakemake.output.markdown).write_text(audit_markdown(audit, snakemake.wildcards.dataset))
