"""Summarise the runs, check the targets and print markdown tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .runner import (
    Measured,
    QueryComparison,
    ScheduleMeasurement,
    schedule_p95_ms,
    schedule_p95_without_full_collections_ms,
)
from .stats import median

# Targets, as ratios of our figures to the baseline's in the same run.
P50_RATIO_LIMITS: dict[int, float] = {10: 1.15, 100: 1.5}
# Cost is linear in N when the per-thermostat cost of the largest interval is
# at most this multiple of the interval before it; a quadratic cost would make
# 100 -> 500 about six times as dear per thermostat as 10 -> 100.
LINEARITY_TOLERANCE = 1.5
# Extra CPU per thermostat below which two intervals cannot be told apart:
# run to run, the same interval varies by about this much on a 2-vCPU machine
# that also runs the load generator (an estimate from repeated runs).
LINEARITY_NOISE_US = 1.0
SCHEDULE_ACK_LIMIT_MS = 150.0


@dataclass(frozen=True, slots=True)
class TargetFigures:
    """Medians over the repetitions of one target's runs."""

    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_cpu_us: float
    """Home Assistant CPU time per request."""


@dataclass(frozen=True, slots=True)
class ComparisonSummary:
    """Our figures, the baseline's and their ratios for one N and concurrency."""

    thermostats: int
    concurrency: int
    ours: TargetFigures
    baseline: TargetFigures
    p50_ratio: float
    """Median over the rounds of our p50 divided by the baseline's p50."""
    p50_ratio_min: float
    p50_ratio_max: float
    rps_ratio: float
    p50_excess_us: float
    """Median over the rounds of our p50 minus the baseline's p50."""
    cpu_excess_us: float
    """Median over the rounds of the extra Home Assistant CPU time per request."""
    cpu_ratio: float
    """Median over the rounds of our CPU time per request divided by the baseline's.

    Unlike latency, CPU time hardly changes when other processes compete for
    the cores, so this ratio is the steadier measure of our handler's cost.
    """
    client_cpu_max: float
    """Highest share of a core the load generator used in any run."""
    requests: int
    """Requests timed against our webhook, over all rounds."""


@dataclass(frozen=True, slots=True)
class Marginal:
    """Extra cost per exposed thermostat between two thermostat counts."""

    concurrency: int
    low: int
    high: int
    p50_us: float
    """Change of the p50 excess per added thermostat."""
    cpu_us: float
    """Change of the CPU time excess per added thermostat."""


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """One target and whether this run met it."""

    name: str
    measured: str
    limit: str
    passed: bool | None
    """None when the run did not measure what the target needs."""

    @property
    def verdict(self) -> str:
        """PASS, MISS or a note that the run could not tell."""
        if self.passed is None:
            return "NOT MEASURED"
        return "PASS" if self.passed else "MISS"


def _figures(runs: Sequence[Measured]) -> TargetFigures:
    """Take the median of each figure over the repetitions."""
    return TargetFigures(
        requests_per_second=median([run.load.requests_per_second for run in runs]),
        p50_ms=median([run.load.p50_ms for run in runs]),
        p95_ms=median([run.load.p95_ms for run in runs]),
        p99_ms=median([run.load.p99_ms for run in runs]),
        server_cpu_us=median([run.server_cpu_us_per_request for run in runs]),
    )


def summarise(comparison: QueryComparison) -> ComparisonSummary:
    """Pair each round's runs so drift between rounds cancels out of the ratios."""
    rounds = comparison.rounds
    p50_ratios = [r.ours.load.p50_ms / r.baseline.load.p50_ms for r in rounds]
    return ComparisonSummary(
        thermostats=comparison.thermostats,
        concurrency=comparison.concurrency,
        ours=_figures([r.ours for r in rounds]),
        baseline=_figures([r.baseline for r in rounds]),
        p50_ratio=median(p50_ratios),
        p50_ratio_min=min(p50_ratios),
        p50_ratio_max=max(p50_ratios),
        rps_ratio=median(
            [
                r.ours.load.requests_per_second / r.baseline.load.requests_per_second
                for r in rounds
            ]
        ),
        p50_excess_us=median(
            [(r.ours.load.p50_ms - r.baseline.load.p50_ms) * 1000 for r in rounds]
        ),
        cpu_excess_us=median(
            [
                r.ours.server_cpu_us_per_request - r.baseline.server_cpu_us_per_request
                for r in rounds
            ]
        ),
        cpu_ratio=median(
            [
                r.ours.server_cpu_us_per_request / r.baseline.server_cpu_us_per_request
                for r in rounds
            ]
        ),
        client_cpu_max=max(
            run.client_cpu_share for r in rounds for run in (r.ours, r.baseline)
        ),
        requests=sum(r.ours.load.requests for r in rounds),
    )


def marginals(summaries: Sequence[ComparisonSummary]) -> list[Marginal]:
    """Compute the per-thermostat cost between consecutive thermostat counts."""
    result: list[Marginal] = []
    for concurrency in sorted({s.concurrency for s in summaries}):
        ordered = sorted(
            (s for s in summaries if s.concurrency == concurrency),
            key=lambda s: s.thermostats,
        )
        for low, high in zip(ordered, ordered[1:], strict=False):
            added = high.thermostats - low.thermostats
            result.append(
                Marginal(
                    concurrency=concurrency,
                    low=low.thermostats,
                    high=high.thermostats,
                    p50_us=(high.p50_excess_us - low.p50_excess_us) / added,
                    cpu_us=(high.cpu_excess_us - low.cpu_excess_us) / added,
                )
            )
    return result


def check_targets(
    summaries: Sequence[ComparisonSummary],
    margins: Sequence[Marginal],
    schedule: ScheduleMeasurement | None,
) -> list[TargetCheck]:
    """Compare the run's figures with every target."""
    checks: list[TargetCheck] = []
    concurrencies = sorted({s.concurrency for s in summaries})
    for thermostats, limit in P50_RATIO_LIMITS.items():
        for concurrency in concurrencies:
            found = [
                s
                for s in summaries
                if s.thermostats == thermostats and s.concurrency == concurrency
            ]
            name = f"p50 ratio, {thermostats} thermostats, concurrency {concurrency}"
            checks.append(
                TargetCheck(
                    name=name,
                    measured=f"{found[0].p50_ratio:.3f}x" if found else "-",
                    limit=f"<= {limit}x",
                    passed=found[0].p50_ratio <= limit if found else None,
                )
            )

    checks.extend(_linearity(margins, concurrency) for concurrency in concurrencies)

    if schedule is not None:
        name = f"SET_POINT_SCHEDULE {schedule.thermostats} x {schedule.blocks} acknowledged"
        p50 = median(schedule.latencies_ms)
        p95 = schedule_p95_ms(schedule)
        clean = schedule_p95_without_full_collections_ms(schedule)
        ack_limit = f"< {SCHEDULE_ACK_LIMIT_MS:.0f} ms"
        checks.append(
            TargetCheck(
                name=f"{name}, p50",
                measured=f"{p50:.1f} ms",
                limit=ack_limit,
                passed=p50 < SCHEDULE_ACK_LIMIT_MS,
            )
        )
        checks.append(
            TargetCheck(
                name=f"{name}, p95",
                measured=f"{p95:.1f} ms",
                limit=ack_limit,
                passed=p95 < SCHEDULE_ACK_LIMIT_MS,
            )
        )
        checks.append(
            TargetCheck(
                name=f"{name}, p95 of samples without a full garbage collection",
                measured=f"{clean:.1f} ms" if clean is not None else "-",
                limit=ack_limit,
                passed=clean < SCHEDULE_ACK_LIMIT_MS if clean is not None else None,
            )
        )
    return checks


def _linearity(margins: Sequence[Marginal], concurrency: int) -> TargetCheck:
    """Check that the last interval costs no more CPU per thermostat than allowed.

    The check uses CPU time because a p50 difference between two sizes is
    mostly noise when other processes share the machine.
    """
    series = [m for m in margins if m.concurrency == concurrency]
    name = f"linear in N (HA CPU excess per thermostat, concurrency {concurrency})"
    limit = (
        f"last interval <= {LINEARITY_TOLERANCE}x the one before, "
        f"or <= {LINEARITY_NOISE_US:g} us"
    )
    if len(series) < 2:
        return TargetCheck(name, "needs three or more sizes", limit, None)
    before, last = series[-2], series[-1]
    before_us, last_us = before.cpu_us, last.cpu_us
    measured = (
        f"{before.low}->{before.high}: {before_us:.2f} us, "
        f"{last.low}->{last.high}: {last_us:.2f} us"
    )
    if before_us <= 0:
        # A zero or negative cost per thermostat is noise; no ratio means anything.
        return TargetCheck(name, measured + " (below noise)", limit, None)
    return TargetCheck(
        name,
        measured,
        limit,
        last_us <= LINEARITY_TOLERANCE * before_us or last_us <= LINEARITY_NOISE_US,
    )


def _row(cells: Sequence[str]) -> str:
    """Format one markdown table row."""
    return "| " + " | ".join(cells) + " |"


def query_table(summaries: Sequence[ComparisonSummary]) -> str:
    """Return the THERMOSTAT_QUERY figures as a markdown table."""
    header = [
        "N",
        "conc.",
        "ours req/s",
        "base req/s",
        "req/s ratio",
        "ours p50 / p95 / p99 ms",
        "base p50 / p95 / p99 ms",
        "p50 ratio (min-max)",
        "HA CPU us/req ours / base",
        "HA CPU ratio",
        "client CPU max",
    ]
    lines = [_row(header), "|---:|---:|---:|---:|---:|---|---|---|---|---:|---:|"]
    lines.extend(
        _row(
            [
                str(s.thermostats),
                str(s.concurrency),
                f"{s.ours.requests_per_second:.0f}",
                f"{s.baseline.requests_per_second:.0f}",
                f"{s.rps_ratio:.3f}",
                _latencies(s.ours),
                _latencies(s.baseline),
                f"**{s.p50_ratio:.3f}** ({s.p50_ratio_min:.3f}-{s.p50_ratio_max:.3f})",
                f"{s.ours.server_cpu_us:.0f} / {s.baseline.server_cpu_us:.0f}",
                f"{s.cpu_ratio:.3f}",
                f"{s.client_cpu_max:.0%}",
            ]
        )
        for s in summaries
    )
    return "\n".join(lines)


def _latencies(figures: TargetFigures) -> str:
    """Format p50, p95 and p99 in milliseconds."""
    return f"{figures.p50_ms:.2f} / {figures.p95_ms:.2f} / {figures.p99_ms:.2f}"


def marginal_table(margins: Sequence[Marginal]) -> str:
    """Return the per-thermostat costs as a markdown table."""
    header = [
        "conc.",
        "N from -> to",
        "p50 excess us per thermostat",
        "HA CPU excess us per thermostat",
    ]
    lines = [_row(header), "|---:|---|---:|---:|"]
    lines.extend(
        _row(
            [
                str(m.concurrency),
                f"{m.low} -> {m.high}",
                f"{m.p50_us:.2f}",
                f"{m.cpu_us:.2f}",
            ]
        )
        for m in margins
    )
    return "\n".join(lines)


def schedule_table(schedule: ScheduleMeasurement) -> str:
    """Return the SET_POINT_SCHEDULE figures as a markdown table."""
    response = schedule.response_body
    handled = response.get("handled")
    note = f"handled={handled}"
    if handled is False and "reason" in response:
        note += f": {response['reason']}"
    latencies = schedule.latencies_ms
    collections = [ms for ms in schedule.full_collection_ms if ms > 0]
    collected = len(collections)
    longest = max(collections, default=0.0)
    header = [
        "thermostats x blocks",
        "body",
        "samples",
        "ack p50 / p95 / max ms",
        "samples with a full GC, longest",
        "HTTP status, response",
        "traced peak",
        "max RSS before / after",
    ]
    row = [
        f"{schedule.thermostats} x {schedule.blocks}",
        f"{schedule.body_bytes / 1024:.0f} KiB",
        str(len(latencies)),
        f"{median(latencies):.1f} / {schedule_p95_ms(schedule):.1f} / {max(latencies):.1f}",
        f"{collected} ({longest:.0f} ms)",
        f"{schedule.status}, {note}",
        f"{schedule.traced_peak_bytes / 1024**2:.1f} MiB",
        f"{_mib(schedule.max_rss_before_bytes)} / {_mib(schedule.max_rss_after_bytes)} MiB",
    ]
    return "\n".join([_row(header), "|---|---:|---:|---|---|---|---:|---|", _row(row)])


def _mib(size: int) -> str:
    """Format a byte count in whole MiB."""
    return f"{size / 1024**2:.0f}"


def target_table(checks: Sequence[TargetCheck]) -> str:
    """Return the targets and verdicts as a markdown table."""
    lines = [_row(["target", "measured", "limit", "verdict"]), "|---|---|---|---|"]
    lines.extend(
        _row([c.name, c.measured, c.limit, f"**{c.verdict}**"]) for c in checks
    )
    return "\n".join(lines)
