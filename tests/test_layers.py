"""The package is layered by stage: a module imports only from its own stage or from stages below it.

The order follows the data: foundations (shapes, logs, prompts, stats, experiments, io, plotting,
config), then
data and phantom, models, training, sampling, evaluation, reader_study, export, cluster, report, gui,
cli. A
lower stage importing a higher one (or two stages importing each other) is how cycles start."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import yaml

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "mame"
LAYERS = [
    {"shapes", "logs", "prompts", "stats", "experiments"},
    {"io", "plotting", "config"},
    {"data", "phantom"},
    {"models"},
    {"training"},
    {"sampling"},
    {"evaluation"},
    {"reader_study"},
    {"export"},
    {"cluster"},
    {"report"},
    {"gui"},
    {"cli"},
]
RANK = {stage: rank for rank, stages in enumerate(LAYERS) for stage in stages}


def stage_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "mame"


def stage_imports() -> dict[tuple[str, str], list[str]]:
    """(importing stage, imported stage) -> the files where it happens (top-level and lazy imports)."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        module = "mame." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("mame."):
                    found[(stage_of(module), stage_of(name))].append(path.relative_to(PACKAGE).as_posix())
    return found


def test_every_stage_has_a_layer():
    stages = {
        stage_of("mame." + p.relative_to(PACKAGE).parts[0].removesuffix(".py")) for p in PACKAGE.iterdir()
    }
    stages -= {"__init__", "__pycache__", "schemas"}
    assert stages <= set(RANK), f"stages without a layer: {sorted(stages - set(RANK))}"


def test_no_stage_imports_a_stage_above_it():
    upward = {
        f"{low} -> {high} ({', '.join(sorted(set(files)))})"
        for (low, high), files in stage_imports().items()
        if low in RANK and high in RANK and RANK[high] > RANK[low]
    }
    assert not upward, "imports from a higher stage:\n" + "\n".join(sorted(upward))


def test_no_two_stages_import_each_other():
    pairs = {pair for pair in stage_imports() if pair[0] != pair[1]}
    assert not {tuple(sorted(p)) for p in pairs if (p[1], p[0]) in pairs}


def test_the_readmes_layout_names_every_stage_and_module():
    """The Layout section of README.md cannot go stale: every library module and rule file is named."""
    readme = (PACKAGE.parents[1] / "README.md").read_text()
    layout = readme[readme.index("## Layout") :]
    missing = [
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "__init__.py" and path.stem not in layout
    ]
    rules = sorted((PACKAGE.parents[1] / "workflow" / "rules").glob("*.smk"))
    missing += [rule.name for rule in rules if rule.name not in layout]
    assert not missing, f"README Layout does not name: {missing}"


def test_the_workflow_catalog_file_names_what_the_catalog_reads():
    """.snakemake-workflow-catalog.yml: usage with flags, the deployment methods and the report."""
    root = PACKAGE.parents[1]
    catalog = yaml.safe_load((root / ".snakemake-workflow-catalog.yml").read_text())
    usage = catalog["usage"]
    assert set(usage) == {"mandatory-flags", "software-stack-deployment", "report"}
    assert set(usage["mandatory-flags"]) == {"desc", "flags"}
    assert usage["software-stack-deployment"]["conda"] is (root / "envs" / "mame.yaml").is_file()
    assert usage["report"] is True and (root / "config" / "README.md").is_file()
