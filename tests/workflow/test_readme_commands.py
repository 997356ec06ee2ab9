"""Every `snakemake` and `mame` command the README prints runs as printed: each snakemake line as a dry
run (the thesis config pointed at a prepared scratch folder, the SLURM profile against fake SLURM
commands), each mame line through mame's own argument parser."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest
from test_cluster import _bench_dryrun, fake_cluster

from mame.cli import build_parser

from conftest import REPO

pytestmark = pytest.mark.pipeline


def readme_commands() -> list[str]:
    """The README's command lines: whole lines of its code blocks (continuations joined, comments
    dropped), and inline code of three words or more; placeholders (<rule>, ...) left out."""
    text = (REPO / "README.md").read_text()
    found = []
    for block in re.findall(r"```(?:bash|sh)?\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if re.match(r"(snakemake|mame) ", line):
                found.append(line)
    found += [span for span in re.findall(r"`((?:snakemake|mame) [^`]+)`", text) if len(span.split()) >= 3]
    return [command for command in dict.fromkeys(found) if "<" not in command and "..." not in command]


COMMANDS = readme_commands()


def test_the_readme_prints_the_commands_a_user_needs():
    snakemake = [c for c in COMMANDS if c.startswith("snakemake")]
    assert len(snakemake) >= 8 and any("profiles/slurm" in c for c in snakemake)
    assert any(c.startswith("mame cluster-check") for c in COMMANDS)


@pytest.fixture(scope="module")
def thesis(tmp_path_factory):
    work = tmp_path_factory.mktemp("readme-thesis")
    return _bench_dryrun().prepare_thesis_workdir(work, {"omi": 60, "vindr": 40})


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.startswith("snakemake")])
def test_each_readme_snakemake_command_dry_runs_as_printed(command, thesis, tmp_path):
    words = shlex.split(command.replace("config/thesis.yaml", str(thesis)))[1:]
    if "--unlock" not in words and "--report" not in " ".join(words):
        words.append("-n")
    work = thesis.parent if "config/thesis.yaml" in command else tmp_path
    if not (work / "config").exists():  # the Snakefile's own configfile, as in the repository root
        (work / "config").symlink_to(REPO / "config")
    snakemake = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work)]
    environment = fake_cluster(tmp_path / "fake")
    result = subprocess.run([*snakemake, *words], cwd=REPO, env=environment, capture_output=True, text=True)
    output = result.stdout + result.stderr
    if "--report" in words:  # nothing has run in the scratch folder: the report must say only that
        assert "FileNotFoundError" not in output and "unrecognized arguments" not in output, output[-2000:]
        return
    assert result.returncode == 0, output[-3000:]


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.startswith("mame")])
def test_each_readme_mame_command_parses_as_printed(command):
    build_parser().parse_args(shlex.split(command)[1:])
