"""Describe the machine and software a benchmark ran on."""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
import platform
import resource
import time

from homeassistant.const import __version__ as HA_VERSION


def _cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or the platform's guess."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def _memory() -> str:
    """Return the total memory from /proc/meminfo."""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024**2:.1f} GiB"
    return "unknown"


def _os_name() -> str:
    """Return PRETTY_NAME from /etc/os-release, or the kernel name."""
    os_release = Path("/etc/os-release")
    if os_release.exists():
        for line in os_release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.partition("=")[2].strip('"')
    return platform.system()


def describe() -> list[str]:
    """Return one markdown list item per fact about the machine and software."""
    return [
        f"- CPU: {_cpu_model()}, {os.cpu_count()} logical cores",
        f"- Memory: {_memory()}",
        f"- OS: {_os_name()}, kernel {platform.release()}",
        f"- Python: {platform.python_version()}",
        f"- Home Assistant: {HA_VERSION}",
    ]


# Share of one core that other processes may use before the report warns.
BUSY_MACHINE_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class CpuSample:
    """CPU time used by the whole machine and by this benchmark, at one instant."""

    wall_s: float
    machine_busy_s: float
    """Non-idle CPU time of all cores since boot, from /proc/stat."""
    own_s: float
    """CPU time of this process and its waited-for children."""


def sample_cpu() -> CpuSample:
    """Read the machine's and this benchmark's CPU time."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    ticks = os.sysconf("SC_CLK_TCK")
    own = 0.0
    for scope in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(scope)
        own += usage.ru_utime + usage.ru_stime
    return CpuSample(
        wall_s=time.monotonic(),
        machine_busy_s=(user + nice + system + irq + softirq + steal) / ticks,
        own_s=own,
    )


def describe_other_load(start: CpuSample, end: CpuSample) -> str:
    """Say how much CPU other processes used between two samples.

    The load generator must have exited before `end` is taken, because
    RUSAGE_CHILDREN counts only children that were waited for.
    """
    wall = end.wall_s - start.wall_s
    other = max(
        (end.machine_busy_s - start.machine_busy_s) - (end.own_s - start.own_s), 0.0
    )
    line = (
        f"- Other processes: {other:.1f} CPU seconds during the {wall:.0f} s run "
        f"({other / wall:.0%} of one core on average); "
        f"load average at the end {os.getloadavg()[0]:.2f}"
    )
    if other / wall > BUSY_MACHINE_SHARE:
        line += (
            ". Other processes competed for the cores, so latencies and their "
            "ratios are noisier than on an idle machine."
        )
    return line
