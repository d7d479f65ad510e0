"""One step of a benchmark: a command in its own process tree, its wall seconds and its peak RSS."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    peak_rss_mib: float  # the largest single process of the step's tree (PostgreSQL's not counted)
    output: str


def run_step(name: str, command: list[str], cwd: str = ROOT) -> Step:
    """Run `command` and wait for it with wait4, so the RSS is this step's, not the largest so far;
    raise with the output's tail when it fails."""
    with tempfile.TemporaryFile(mode="w+") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read()
    if process.returncode != 0:
        raise SystemExit(f"{name} failed ({' '.join(command)}):\n{output[-4000:]}")
    return Step(name, seconds, usage.ru_maxrss / 1024, output)


def print_steps(steps: list[Step], ratios: list[tuple[str, float, str]]) -> None:
    """The steps as a table, then each ratio beside its goal."""
    print(f"{'step':56} {'seconds':>9} {'peak RSS MiB':>13}")
    for step in steps:
        print(f"{step.name:56} {step.seconds:9.1f} {step.peak_rss_mib:13.0f}")
    for name, value, goal in ratios:
        print(f"{name:56} {value:9.2f}   goal {goal}")
