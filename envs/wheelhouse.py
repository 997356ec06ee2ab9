"""A wheelhouse for GPU nodes without internet: every dependency of mame except PyTorch, as wheels.

Clusters often have PyTorch (with their CUDA) installed and no route to PyPI. For each Python version
(run on a Linux x86-64 machine that has python3.10-3.12) this resolves mame's dependencies with that
Python against PyPI (metadata only), leaves out torch and
what only torch needs (triton, nvidia-*), downloads the rest as wheels, and adds mame's own wheel. Then on
the node:  pip install --no-index --find-links wheelhouse 'mame[slurm]'

    python envs/wheelhouse.py --out wheelhouse --pythons 3.10 3.11 3.12 [--extras slurm,gpu]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"]
LEFT_OUT = re.compile(r"^(torch|triton|nvidia-.*|cuda-.*|mame)$")


def pip(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *arguments], check=True)


def target_options(python: str) -> list[str]:
    """pip's options for Linux x86-64 wheels of one CPython version."""
    options = ["--only-binary=:all:", "--python-version", python, "--implementation", "cp"]
    for platform in PLATFORMS:
        options += ["--platform", platform]
    return options


def normalised(name: str) -> str:
    """A package name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def already_present(listing: Path) -> set[str]:
    """Names from a file listing what a machine has: one per line, or separated by commas."""
    return {normalised(name) for name in re.split(r"[,\s]+", listing.read_text()) if name}


def resolve(interpreter: str, project: Path, extras: str) -> list[str]:
    """name==version of everything mame[extras] installs with this interpreter, torch left out.

    Resolved by that Python itself (a dry run that reads metadata only), so sdist-only dependencies
    (snakemake's connection_pool) resolve too."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        spec = f"{project}[{extras}]" if extras else str(project)
        command = [interpreter, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
        subprocess.run([*command, "--report", str(report), spec], check=True)
        installs = json.loads(report.read_text())["install"]
    pins = [f"{i['metadata']['name']}=={i['metadata']['version']}" for i in installs]
    return sorted(pin for pin in pins if not LEFT_OUT.match(pin.split("==")[0].lower()))


def fetch(pin: str, python: str, out: Path) -> None:
    """The Linux x86-64 wheel of a pin; a pure-Python sdist is built into a wheel instead."""
    try:
        pip("download", "--no-deps", "--quiet", "--dest", str(out), *target_options(python), pin)
    except subprocess.CalledProcessError:
        pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), pin)


def interpreter_for(python: str) -> str:
    """python3.X on PATH (not a pyenv shim), else pyenv's."""
    import shutil

    found = shutil.which(f"python{python}")
    if found and "/.pyenv/shims/" not in found:  # a shim fails unless pyenv selects that version
        return found
    pyenv = sorted(Path.home().glob(f".pyenv/versions/{python}.*/bin/python"))
    if not pyenv:
        raise SystemExit(f"no python{python} here: install it (or pass --pythons with the ones you have)")
    return str(pyenv[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="wheelhouse")
    parser.add_argument("--pythons", nargs="+", default=["3.10", "3.11", "3.12"])
    parser.add_argument(
        "--extras", default="slurm", help="extras to include (gui, gpu, slurm), comma-separated"
    )
    parser.add_argument(
        "--present",
        help="a file of package names the target machine already has (one per line or comma-separated):"
        " left out, so the wheelhouse stays small enough to carry",
    )
    args = parser.parse_args()
    project = Path(__file__).resolve().parents[1]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for python in args.pythons:
        pins = resolve(interpreter_for(python), project, args.extras)
        if args.present:
            present = already_present(Path(args.present))
            pins = [pin for pin in pins if normalised(pin.split("==")[0]) not in present]
        for pin in pins:
            fetch(pin, python, out)
        print(f"Python {python}: {len(pins)} packages", flush=True)
    pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(project))
    size = sum(p.stat().st_size for p in out.glob("*.whl"))
    print(f"{len(list(out.glob('*.whl')))} wheels, {size / 2**20:.0f} MB in {out}")


if __name__ == "__main__":
    main()
