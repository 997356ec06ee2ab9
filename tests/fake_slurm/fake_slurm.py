#!/usr/bin/env python3
"""A stand-in for SLURM's commands, so the SLURM profile can be tested without a cluster.

Installed on PATH under each command's name (sbatch, sacct, squeue, scancel, srun, sinfo,
scontrol, sacctmgr, sshare). State lives in $FAKE_SLURM_DIR: every sbatch call is appended to
submissions.jsonl (its argv and the parsed options); a job runs at submission, on this machine,
and its final state (COMPLETED / FAILED) is what sacct reports. Partitions and accounts the
cluster knows come from $FAKE_SLURM_PARTITIONS ("cpu*,gpu") and $FAKE_SLURM_ACCOUNTS.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

STATE = Path(os.environ.get("FAKE_SLURM_DIR", "/tmp/fake-slurm"))


def _options(argv: list[str]) -> dict[str, str]:
    """Options as {name: value}: `--a=b`, `--a b` and `-a b`; a flag followed by another option is ''."""
    found, i = {}, 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
            found[name] = value
        elif arg.startswith("-"):
            following = argv[i + 1] if i + 1 < len(argv) else "-"
            found[arg] = "" if following.startswith("-") else following
            i += 0 if following.startswith("-") else 1
        i += 1
    return found


def sbatch(argv: list[str]) -> int:
    STATE.mkdir(parents=True, exist_ok=True)
    options = _options(argv)
    script = options.get("--wrap")
    if script is None and argv and argv[-1] == "/dev/stdin":
        script = sys.stdin.read()
    # two jobs submitted at the same instant (the audit of each dataset) must not share or lose an id
    with open(STATE / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        counter = STATE / "next_id"
        job_id = int(counter.read_text()) if counter.exists() else 1000
        counter.write_text(str(job_id + 1))
        with open(STATE / "submissions.jsonl", "a") as handle:
            handle.write(json.dumps({"id": job_id, "argv": argv, "options": options}) + "\n")
    log = Path(options.get("--output", f"slurm-{job_id}.log").replace("%j", str(job_id)))
    log.parent.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "SLURM_JOB_ID": str(job_id), "SLURM_JOBID": str(job_id)}
    environment["SLURM_CPUS_PER_TASK"] = options.get("--cpus-per-task", "1")
    with open(log, "w") as output:
        # runs at submission: by the first status check the job is over
        result = subprocess.run(
            ["/bin/sh", "-c", script or "true"],
            cwd=options.get("-D") or None,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    state = "COMPLETED" if result.returncode == 0 else "FAILED"
    written = STATE / f"{job_id}.state.part"  # a status poll never reads a half-written file
    written.write_text(f"{state}|{options.get('--job-name', '')}")
    os.replace(written, STATE / f"{job_id}.state")
    print(job_id)
    return 0


def _jobs(name: str | None) -> list[tuple[str, str]]:
    rows = []
    for path in sorted(STATE.glob("*.state")):
        state, job_name = path.read_text().split("|", 1)
        if name is None or job_name == name:
            rows.append((path.stem, state))
    return rows


def sacct(argv: list[str]) -> int:
    options = _options(argv)
    if "Account" in options.get("-o", "") + options.get("--format", ""):
        print(os.environ.get("FAKE_SLURM_ACCOUNTS", "").split(",")[0])
        return 0
    for job_id, state in _jobs(options.get("--name")):
        print(f"{job_id}|{state}")
    return 0


def squeue(argv: list[str]) -> int:
    return 0  # nothing is ever pending: jobs run at submission


def sinfo(argv: list[str]) -> int:
    print("PARTITION")
    for name in os.environ.get("FAKE_SLURM_PARTITIONS", "cpu*,gpu").split(","):
        print(name)
    return 0


def scontrol(argv: list[str]) -> int:
    if argv[:2] == ["show", "config"]:
        print("MinJobAge               = 300 sec")
    return 0


def accounts(argv: list[str]) -> int:
    for account in os.environ.get("FAKE_SLURM_ACCOUNTS", "").split(","):
        print(account)
    return 0


def scancel(argv: list[str]) -> int:
    with open(STATE / "cancelled.txt", "a") as handle:
        handle.write(" ".join(argv) + "\n")
    return 0


def srun(argv: list[str]) -> int:
    """Drop srun's own options and run the command in place."""
    command = list(argv)
    while command and command[0].startswith("-"):
        command.pop(0)
    if not command:
        return 0
    if command[-2:] == ["sh", "-s"]:
        return subprocess.run(["/bin/sh", "-s"], stdin=sys.stdin, check=False).returncode
    os.execvp(command[0], command)
    return 1


COMMANDS = {
    "sbatch": sbatch,
    "sacct": sacct,
    "squeue": squeue,
    "sinfo": sinfo,
    "scontrol": scontrol,
    "sacctmgr": accounts,
    "sshare": accounts,
    "scancel": scancel,
    "srun": srun,
}

if __name__ == "__main__":
    sys.exit(COMMANDS[Path(sys.argv[0]).name](sys.argv[1:]))
