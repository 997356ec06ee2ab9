"""A real one-node SLURM for the tests: munged, slurmctld and slurmd from Debian's packages, started from
profiles/slurm/workstation (the files the README shows) with their fields filled in, stopped by PID.

Needs root (slurmd launches jobs; the stand-in GPUs are device nodes) and the Debian packages
`slurmctld slurmd slurm-client munge`, which .ci/run installs."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from conftest import REPO

WORKSTATION = REPO / "profiles" / "slurm" / "workstation"
# Where srun inside a job looks: the executor plugins drop every SLURM_* variable, SLURM_CONF included,
# before they call srun, so a job step only finds the default path.
SYSTEM_CONF = Path("/etc/slurm")
DAEMONS = ("munged", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "scancel", "srun")
# the first line of the slurm.conf this module writes, so a test on another worker (pytest -n) can tell
# the suite's own cluster from a machine's SLURM
OURS = "# written by tests/workflow/one_node_slurm.py for the test suite; removed when its cluster stops\n"


def missing(ours_counts: bool = False) -> str | None:
    """Why a real SLURM cannot start here, or None when it can. With `ours_counts`, the suite's own
    cluster already running (on another pytest worker) counts as "it can"."""
    absent = [name for name in DAEMONS if shutil.which(name) is None]
    if absent:
        return f"no {', '.join(absent)} (apt-get install slurmctld slurmd slurm-client munge)"
    if os.geteuid() != 0:
        return "slurmd and the stand-in GPU devices need root"
    conf = SYSTEM_CONF / "slurm.conf"
    if conf.exists() and not (ours_counts and conf.read_text().startswith(OURS)):
        return f"{SYSTEM_CONF / 'slurm.conf'} exists: this machine has a SLURM of its own"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fill(template: str, fields: dict[str, str]) -> str:
    for name, value in fields.items():
        template = template.replace(f"@{name}@", value)
    assert "@" not in template, "a field of the workstation files was left unfilled"
    return template


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise TimeoutError(f"{what} within {seconds:.0f} s")


@contextmanager
def one_node_slurm(folder: Path, memory_mb: int = 8000) -> Iterator[dict[str, str]]:
    """Start the cluster in `folder`; yield the environment its commands need (SLURM_CONF, PATH with
    this Python first); stop every daemon by its PID file at the end."""
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("ctld", "d", "munge", "dev"):
        (folder / sub).mkdir(exist_ok=True)
    for index in (0, 1):
        os.mknod(
            folder / "dev" / f"gpu{index}", 0o666 | 0o020000, os.makedev(1, 3)
        )  # char device like /dev/null
    key = folder / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    fields = {
        "HOST": socket.gethostname().split(".")[0],
        "CPUS": "2",  # CI's two cores, on any machine: the 4-thread index job never fits
        "MEMORY_MB": str(memory_mb),
        "STATE": str(folder),
        "USER": "root",
        "CTLD_PORT": str(_free_port()),
        "D_PORT": str(_free_port()),
        "MUNGE_SOCKET": str(folder / "munge" / "munge.socket"),
    }
    SYSTEM_CONF.mkdir(exist_ok=True)
    written = [SYSTEM_CONF / name for name in ("slurm.conf", "gres.conf")]
    for path in written:
        path.write_text(OURS + fill((WORKSTATION / path.name).read_text(), fields))
    environment = {
        **os.environ,
        "SLURM_CONF": str(SYSTEM_CONF / "slurm.conf"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    pid_files = [folder / "slurmd.pid", folder / "slurmctld.pid", folder / "munge" / "munged.pid"]
    try:
        munge = folder / "munge"
        subprocess.run(
            ["munged", "--force", f"--socket={munge / 'munge.socket'}", f"--pid-file={munge / 'munged.pid'}",
             f"--log-file={munge / 'munged.log'}", f"--seed-file={munge / 'seed'}", f"--key-file={key}"],
            check=True, env=environment,
        )  # fmt: skip
        subprocess.run(["slurmctld", "-f", environment["SLURM_CONF"]], check=True, env=environment)
        subprocess.run(["slurmd", "-f", environment["SLURM_CONF"]], check=True, env=environment)

        def idle() -> bool:
            states = subprocess.run(
                ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=environment, check=False
            ).stdout.split()
            return bool(states) and all(state == "idle" for state in states)

        _wait(idle, 60, "the node did not come up idle")
        yield environment
    finally:
        for pid_file in pid_files:
            if pid_file.is_file():
                with suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
        time.sleep(1)
        for path in written:
            path.unlink(missing_ok=True)


def sinfo_limits(environment: dict[str, str]) -> dict[str, dict[str, int]]:
    """Partition -> CPUs, memory and GPUs per node, as sinfo reports them."""
    lines = subprocess.run(
        ["sinfo", "-h", "-o", "%R %c %m %G"], capture_output=True, text=True, env=environment, check=True
    ).stdout.splitlines()
    limits = {}
    for line in lines:
        name, cpus, memory, gres = line.split()
        gpus = int(gres.split(":")[-1].split("(")[0]) if gres.startswith("gpu") else 0
        limits[name] = {"cpus": int(cpus), "memory_mb": int(memory), "gpus": gpus}
    return limits
