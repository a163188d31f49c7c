"""Drive the load generator against our webhook and the baseline, in alternation."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import gc
import json
from pathlib import Path
import resource
import sys
import time
import tracemalloc
from typing import Any, Self

from custom_components.wattshift.engine import REFRESH_DELAY

from .home import BASELINE_BODY, SECURITY_KEY_HEADER, BenchHome
from .payloads import THERMOSTAT_QUERY, current_quarter_hour, set_point_schedule
from .protocol import LoadJob, LoadResult
from .stats import percentile

# Upper bound of one run's request count; the run's duration normally ends it.
MAX_REQUESTS_PER_RUN = 200_000
# Time limit of one SET_POINT_SCHEDULE request.
SCHEDULE_TIMEOUT_S = 30.0
# The load generator runs as `python -m bench.loadgen` from the repository root.
_REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
# Maximum length of a result line from the load generator. A result carries the last
# response body, and a THERMOSTAT_QUERY response about 500 thermostats is
# about 220 KiB, more than asyncio's default limit of 64 KiB.
_RESULT_LINE_LIMIT = 64 * 1024 * 1024


class BenchmarkError(RuntimeError):
    """A run failed, so its figures would not measure what they claim to."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Sizes, concurrencies and run lengths of one benchmark."""

    sizes: tuple[int, ...]
    concurrencies: tuple[int, ...]
    repetitions: int
    duration_s: float
    warm_up_s: float
    schedule_thermostats: int
    schedule_blocks: int
    schedule_samples: int


@dataclass(frozen=True, slots=True)
class Measured:
    """One run as the client saw it and the CPU time Home Assistant spent on it."""

    load: LoadResult
    server_cpu_s: float
    """CPU time of the Home Assistant process (all threads) during the run."""

    @property
    def server_cpu_us_per_request(self) -> float:
        """Home Assistant CPU time per completed request, in microseconds."""
        return self.server_cpu_s / self.load.requests * 1e6

    @property
    def client_cpu_share(self) -> float:
        """Fraction of one core the load generator used during the run."""
        return self.load.client_cpu_s / self.load.elapsed_s


@dataclass(frozen=True, slots=True)
class Round:
    """One run against our webhook and one against the baseline, back to back."""

    ours: Measured
    baseline: Measured


@dataclass(frozen=True, slots=True)
class QueryComparison:
    """Every round for one thermostat count and one concurrency."""

    thermostats: int
    concurrency: int
    rounds: list[Round]


@dataclass(frozen=True, slots=True)
class ScheduleMeasurement:
    """Acknowledgement times and memory of the SET_POINT_SCHEDULE deliveries."""

    thermostats: int
    blocks: int
    body_bytes: int
    latencies_ms: list[float]
    status: int
    response_body: dict[str, Any]
    full_collection_ms: list[float]
    """Time spent in full garbage collections during each sample, in order."""
    traced_peak_bytes: int
    """Peak of Python allocations made while one schedule was handled."""
    max_rss_before_bytes: int
    max_rss_after_bytes: int
    """Peak resident set size of the Home Assistant process after all samples."""


class LoadGenerator:
    """The load generator subprocess and its job pipe."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        """Wrap a started load generator; use LoadGenerator.start to create one."""
        self._process = process

    @classmethod
    async def start(cls) -> LoadGenerator:
        """Start `python -m bench.loadgen` with this interpreter."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.loadgen",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=_REPOSITORY_ROOT,
            limit=_RESULT_LINE_LIMIT,
        )
        return cls(process)

    async def run(self, job: LoadJob) -> Measured:
        """Send one job and measure Home Assistant's CPU time until its result."""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        cpu_start = time.process_time()
        self._process.stdin.write(job.to_line().encode())
        await self._process.stdin.drain()
        line = await self._process.stdout.readline()
        cpu = time.process_time() - cpu_start
        if not line:
            raise BenchmarkError(
                f"the load generator exited with code {await self._process.wait()}"
            )
        return Measured(load=LoadResult.from_line(line.decode()), server_cpu_s=cpu)

    async def stop(self) -> None:
        """Close the job pipe and wait for the process to exit."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        await self._process.wait()


class Runner:
    """Measure our webhook against the baseline in one Home Assistant."""

    def __init__(
        self, home: BenchHome, generator: LoadGenerator, settings: Settings
    ) -> None:
        """Measure `home` with `generator` according to `settings`."""
        self._home = home
        self._generator = generator
        self._settings = settings

    def _job(self, url: str, body: str, concurrency: int, duration_s: float) -> LoadJob:
        """Return a THERMOSTAT_QUERY job; both targets get the same headers."""
        return LoadJob(
            url=url,
            headers={SECURITY_KEY_HEADER: self._home.security_key},
            bodies=[body],
            concurrency=concurrency,
            duration_s=duration_s,
            max_requests=MAX_REQUESTS_PER_RUN,
        )

    async def compare_queries(self, thermostats: int) -> list[QueryComparison]:
        """Expose `thermostats` thermostats and run every concurrency."""
        await self._home.expose(thermostats)
        return [
            await self._compare(thermostats, concurrency)
            for concurrency in self._settings.concurrencies
        ]

    async def _compare(self, thermostats: int, concurrency: int) -> QueryComparison:
        """Warm both targets up, then alternate which of them runs first."""
        settings = self._settings
        ours = self._job(
            self._home.ours_url, THERMOSTAT_QUERY, concurrency, settings.duration_s
        )
        baseline = self._job(
            self._home.baseline_url, THERMOSTAT_QUERY, concurrency, settings.duration_s
        )
        # A run of zero seconds would send no request, so --warm-up 0 skips it.
        if settings.warm_up_s > 0:
            for url in (ours.url, baseline.url):
                await self._generator.run(
                    self._job(url, THERMOSTAT_QUERY, concurrency, settings.warm_up_s)
                )

        rounds: list[Round] = []
        for repetition in range(settings.repetitions):
            if repetition % 2 == 0:
                ours_run = await self._checked(ours, thermostats)
                baseline_run = await self._checked(baseline)
            else:
                baseline_run = await self._checked(baseline)
                ours_run = await self._checked(ours, thermostats)
            rounds.append(Round(ours=ours_run, baseline=baseline_run))
        return QueryComparison(thermostats, concurrency, rounds)

    async def _checked(self, job: LoadJob, thermostats: int | None = None) -> Measured:
        """Run a job and raise unless every response was correct.

        `thermostats` is the record count our response must contain, or None for
        the baseline, whose body is fixed.
        """
        measured = await self._generator.run(job)
        load = measured.load
        if load.errors:
            target = "the baseline" if thermostats is None else "the WattShift webhook"
            raise BenchmarkError(
                f"{load.errors} of {load.requests} requests to {target} "
                f"failed: {load.error_sample}"
            )
        if thermostats is None:
            if load.last_body.encode() != BASELINE_BODY:
                raise BenchmarkError(
                    f"unexpected baseline response body: {load.last_body!r}"
                )
            return measured
        response = json.loads(load.last_body)
        if (
            response.get("handled") is not True
            or len(response["thermostats"]) != thermostats
        ):
            raise BenchmarkError(
                f"THERMOSTAT_QUERY response without {thermostats} thermostat "
                f"records: {load.last_body[:300]!r}"
            )
        return measured

    async def measure_schedule(self) -> ScheduleMeasurement:
        """Time SET_POINT_SCHEDULE deliveries one at a time in a quiet home."""
        settings = self._settings
        count = settings.schedule_thermostats
        await self._home.expose(count, linked=True)
        start = current_quarter_hour()
        thermostats = self._home.thermostats[:count]
        bodies = [
            set_point_schedule(thermostats, settings.schedule_blocks, start, variant)
            for variant in (0, 1)
        ]

        # The first delivery opens the connection and is not counted. Full
        # collections of the whole process are timed per sample, because they
        # are what makes the slowest acknowledgements slow.
        results: list[Measured] = []
        full_collections: list[float] = []
        with FullCollectionTimer() as collections:
            for index in range(settings.schedule_samples + 1):
                collections.reset()
                results.append(await self._deliver_schedule(bodies[index % 2]))
                full_collections.append(collections.total_ms)
        results, full_collections = results[1:], full_collections[1:]
        max_rss_before = _max_rss_bytes()

        tracemalloc.start()
        try:
            await self._deliver_schedule(bodies[0])
            _, traced_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        last = results[-1].load
        return ScheduleMeasurement(
            thermostats=count,
            blocks=settings.schedule_blocks,
            body_bytes=len(bodies[0].encode()),
            latencies_ms=[result.load.p50_ms for result in results],
            full_collection_ms=full_collections,
            status=int(next(iter(last.statuses))),
            response_body=json.loads(last.last_body),
            traced_peak_bytes=traced_peak,
            max_rss_before_bytes=max_rss_before,
            max_rss_after_bytes=_max_rss_bytes(),
        )

    async def _deliver_schedule(self, body: str) -> Measured:
        """Send one schedule, then wait until Home Assistant has no work left."""
        job = LoadJob(
            url=self._home.ours_url,
            headers={SECURITY_KEY_HEADER: self._home.security_key},
            bodies=[body],
            concurrency=1,
            duration_s=SCHEDULE_TIMEOUT_S,
            max_requests=1,
            warm_up=False,
        )
        measured = await self._generator.run(job)
        if measured.load.requests != 1 or measured.load.error_sample:
            raise BenchmarkError(
                f"the SET_POINT_SCHEDULE delivery failed: {measured.load.error_sample}"
            )
        # Work the handler started after its response must not overlap the next
        # one. The writes a delivery causes start REFRESH_DELAY after it.
        await asyncio.sleep(REFRESH_DELAY)
        await self._home.hass.async_block_till_done()
        return measured


class FullCollectionTimer:
    """Add up the time the garbage collector spends in full collections."""

    def __init__(self) -> None:
        """Start with nothing counted."""
        self.total_ms = 0.0
        self._started: float | None = None

    def __enter__(self) -> Self:
        """Start timing collections."""
        gc.callbacks.append(self._on_collection)
        return self

    def __exit__(self, *_exc: object) -> None:
        """Stop timing collections."""
        gc.callbacks.remove(self._on_collection)

    def reset(self) -> None:
        """Forget what was counted so far."""
        self.total_ms = 0.0

    def _on_collection(self, phase: str, info: dict[str, int]) -> None:
        """Time each collection of the oldest generation."""
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.total_ms += (time.perf_counter() - self._started) * 1000
            self._started = None


def schedule_p95_ms(measurement: ScheduleMeasurement) -> float:
    """Return the nearest-rank 95th percentile of the acknowledgement times."""
    return percentile(sorted(measurement.latencies_ms), 0.95)


def schedule_p95_without_full_collections_ms(
    measurement: ScheduleMeasurement,
) -> float | None:
    """Return the 95th percentile of the samples no full collection fell into."""
    clean = sorted(
        latency
        for latency, collection in zip(
            measurement.latencies_ms, measurement.full_collection_ms, strict=True
        )
        if collection == 0
    )
    return percentile(clean, 0.95) if clean else None


def _max_rss_bytes() -> int:
    """Return this process's peak resident set size; Linux reports KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
