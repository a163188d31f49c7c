"""Parse the command line, run the webhook benchmark and print the report.

The exit code is 0 whether targets are met or missed, because the benchmark
measures and does not test. It is 1 when a run fails, since its figures
would then measure something else.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
import sys
import tempfile

from homeassistant.runner import HassEventLoopPolicy

from . import machine
from .home import BenchHome
from .report import (
    ComparisonSummary,
    TargetCheck,
    check_targets,
    marginal_table,
    marginals,
    query_table,
    schedule_table,
    summarise,
    target_table,
)
from .runner import BenchmarkError, LoadGenerator, Runner, ScheduleMeasurement, Settings

_LOGGER = logging.getLogger(__name__)


def _sizes(text: str) -> tuple[int, ...]:
    """Parse a comma-separated list of positive integers."""
    values = tuple(int(part) for part in text.split(","))
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _parser() -> argparse.ArgumentParser:
    """Describe the command line options."""
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Measure the WattShift webhook against a baseline webhook.",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=(1, 10, 100, 500),
        help="exposed thermostat counts (default: 1,10,100,500)",
    )
    parser.add_argument(
        "--concurrency",
        type=_sizes,
        default=(1, 16),
        help="connections sending requests at once (default: 1,16)",
    )
    parser.add_argument(
        "--repetitions",
        type=int,
        default=15,
        help="rounds of one run per target for each size and concurrency (default: 15)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=0.5,
        help="seconds per run; short runs keep the two runs of a round close in time (default: 0.5)",
    )
    parser.add_argument(
        "--warm-up",
        type=float,
        default=1.0,
        help="seconds of untimed requests per target before the rounds (default: 1.0)",
    )
    parser.add_argument(
        "--schedule-samples",
        type=int,
        default=20,
        help="SET_POINT_SCHEDULE deliveries to time; 0 skips them (default: 20)",
    )
    return parser


def parse_settings(argv: list[str]) -> Settings:
    """Read and check the command line."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.repetitions < 1 or args.duration <= 0 or args.warm_up < 0:
        parser.error("--repetitions must be >= 1, --duration > 0, --warm-up >= 0")
    if args.schedule_samples < 0:
        parser.error("--schedule-samples must be >= 0")
    return Settings(
        sizes=tuple(sorted(set(args.sizes))),
        concurrencies=tuple(sorted(set(args.concurrency))),
        repetitions=args.repetitions,
        duration_s=args.duration,
        warm_up_s=args.warm_up,
        schedule_thermostats=100,
        schedule_blocks=96,
        schedule_samples=args.schedule_samples,
    )


async def measure(
    settings: Settings,
) -> tuple[list[ComparisonSummary], ScheduleMeasurement | None, str]:
    """Start the home and the load generator, run every measurement, stop both."""
    cpu_start = machine.sample_cpu()
    thermostats = max(*settings.sizes, settings.schedule_thermostats)
    with tempfile.TemporaryDirectory(prefix="wattshift-bench-") as config_dir:
        _LOGGER.warning("Starting Home Assistant with %d thermostats", thermostats)
        home = await BenchHome.start(config_dir, thermostats)
        try:
            generator = await LoadGenerator.start()
            try:
                runner = Runner(home, generator, settings)
                summaries: list[ComparisonSummary] = []
                for size in settings.sizes:
                    for comparison in await runner.compare_queries(size):
                        summary = summarise(comparison)
                        summaries.append(summary)
                        _LOGGER.warning(
                            "N=%d concurrency=%d: p50 %.2f ms vs %.2f ms, ratio %.3f",
                            summary.thermostats,
                            summary.concurrency,
                            summary.ours.p50_ms,
                            summary.baseline.p50_ms,
                            summary.p50_ratio,
                        )
                schedule = None
                if settings.schedule_samples:
                    _LOGGER.warning("Timing SET_POINT_SCHEDULE deliveries")
                    schedule = await runner.measure_schedule()
            finally:
                await generator.stop()
        finally:
            await home.stop()
    return (
        summaries,
        schedule,
        machine.describe_other_load(cpu_start, machine.sample_cpu()),
    )


def render(
    settings: Settings,
    argv: list[str],
    summaries: list[ComparisonSummary],
    schedule: ScheduleMeasurement | None,
    other_load: str,
) -> tuple[str, list[TargetCheck]]:
    """Return the markdown report and the target checks."""
    margins = marginals(summaries)
    checks = check_targets(summaries, margins, schedule)
    sections = [
        "## Machine",
        "\n".join([*machine.describe(), other_load]),
        _command_line(settings, argv),
        "## THERMOSTAT_QUERY: ours against the baseline",
        query_table(summaries),
        "## Cost per exposed thermostat",
        marginal_table(margins),
    ]
    if schedule is not None:
        sections += ["## SET_POINT_SCHEDULE", schedule_table(schedule)]
    sections += ["## Targets", target_table(checks)]
    return "\n\n".join(sections) + "\n", checks


def _command_line(settings: Settings, argv: list[str]) -> str:
    """Describe the command and the run lengths it chose."""
    return (
        f"Command: `{shlex.join(['scripts/bench', *argv])}`; "
        f"{settings.repetitions} rounds of {settings.duration_s:g} s per target, "
        f"{settings.warm_up_s:g} s warm-up."
    )


def main(argv: list[str]) -> int:
    """Run the benchmark; return 0 unless a run failed."""
    settings = parse_settings(argv)
    asyncio.set_event_loop_policy(HassEventLoopPolicy(False))
    try:
        summaries, schedule, other_load = asyncio.run(measure(settings))
    except BenchmarkError as err:
        print(f"Benchmark failed: {err}", file=sys.stderr)
        return 1

    report, checks = render(settings, argv, summaries, schedule, other_load)
    print(report)
    missed = [check.name for check in checks if check.passed is False]
    unknown = [check.name for check in checks if check.passed is None]
    if missed:
        print("MISSED TARGETS:\n" + "\n".join(f"- {name}" for name in missed))
    else:
        print("All measured targets met.")
    if unknown:
        print("NOT MEASURED:\n" + "\n".join(f"- {name}" for name in unknown))
    return 0
