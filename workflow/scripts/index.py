"""Rule index: headers only -> private index + index rejects of one dataset."""

from mame.logs import log_to

log_to(snakemake.log[0])

from mame.data.index import build_index, filters_from_settings  # noqa: E402

settings = snakemake.params.settings
index, rejects = build_index(
    dataset=snakemake.wildcards.dataset,
    adapter=settings["adapter"],
    root=settings["root"],
    vendor=settings["vendor"],
    salt=snakemake.params.salt,
    filters=filters_from_settings(settings),
    table=settings.get("table"),
    workers=snakemake.threads,
)
index.to_csv(snakemake.output.index, index=False)
rejects.to_csv(snakemake.output.rejects, index=False)
