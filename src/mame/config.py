"""Config validation outside Snakemake, with the schema and the validator the workflow uses."""

from __future__ import annotations

from pathlib import Path

import yaml

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def load_config(path: str | Path, schema: str | Path = SCHEMA) -> dict:
    """Read a YAML config, fill defaults and validate; raise ValueError naming the bad key."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    if not Path(schema).exists():
        raise FileNotFoundError(f"config schema not found at {schema}; run from a clone of the repository")
    config = yaml.safe_load(Path(path).read_text()) or {}
    try:
        validate(config, str(schema), set_default=True)
    except WorkflowError as err:
        raise ValueError(" ".join(str(err).split())[:500]) from None
    return config
