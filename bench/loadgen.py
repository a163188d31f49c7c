"""Send timed runs of webhook requests from a process of its own.

The benchmark starts this module as a subprocess and writes one LoadJob per
line to its stdin, and it writes one LoadResult line per job to stdout. Running
the client in another process keeps its work off Home Assistant's event loop.
"""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp

from .protocol import LoadJob, LoadResult
from .stats import percentile

# Keep-alive connections are reused across runs; this bounds the pool.
_CONNECTION_LIMIT = 64
_REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)


class _Run:
    """The shared counters of one run's connections."""

    def __init__(self, job: LoadJob) -> None:
        self.job = job
        self.bodies = [body.encode() for body in job.bodies]
        self.headers = {"Content-Type": "application/json", **job.headers}
        self.latencies_ns: list[int] = []
        self.statuses: dict[str, int] = {}
        self.errors = 0
        self.error_sample: str | None = None
        self.issued = 0
        self.last_payload = b""

    async def post(self, session: aiohttp.ClientSession) -> tuple[int, int, bytes]:
        """Send the next body; return the status, latency in ns and response body."""
        body = self.bodies[self.issued % len(self.bodies)]
        self.issued += 1
        start = time.perf_counter_ns()
        async with session.post(self.job.url, data=body, headers=self.headers) as resp:
            payload = await resp.read()
            status = resp.status
        return status, time.perf_counter_ns() - start, payload

    async def connection(self, session: aiohttp.ClientSession, deadline: float) -> None:
        """Send requests one after another until a limit is reached."""
        while time.perf_counter() < deadline and self.issued < self.job.max_requests:
            try:
                status, latency_ns, payload = await self.post(session)
            except (aiohttp.ClientError, TimeoutError) as err:
                self.errors += 1
                self.error_sample = self.error_sample or repr(err)
                return
            self.latencies_ns.append(latency_ns)
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
            if status != 200:
                self.errors += 1
                self.error_sample = (
                    self.error_sample or f"HTTP {status}: {payload[:200]!r}"
                )
            # Decoded once at the end, so large bodies do not slow the run.
            self.last_payload = payload


async def run_job(session: aiohttp.ClientSession, job: LoadJob) -> LoadResult:
    """Warm each connection up with one request, then run the timed part."""
    run = _Run(job)
    if job.warm_up:
        await asyncio.gather(*(run.post(session) for _ in range(job.concurrency)))
        run.issued = 0

    cpu_start = time.process_time()
    start = time.perf_counter()
    deadline = start + job.duration_s
    await asyncio.gather(
        *(run.connection(session, deadline) for _ in range(job.concurrency))
    )
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start

    latencies_ms = sorted(ns / 1e6 for ns in run.latencies_ns)
    if not latencies_ms:
        raise RuntimeError(f"every request failed: {run.error_sample}")
    return LoadResult(
        requests=len(latencies_ms),
        errors=run.errors,
        elapsed_s=elapsed,
        client_cpu_s=cpu,
        p50_ms=percentile(latencies_ms, 0.50),
        p95_ms=percentile(latencies_ms, 0.95),
        p99_ms=percentile(latencies_ms, 0.99),
        max_ms=latencies_ms[-1],
        last_body=run.last_payload.decode(errors="replace"),
        error_sample=run.error_sample,
        statuses=run.statuses,
    )


async def serve_jobs() -> None:
    """Run each job line from stdin and write its result line to stdout until EOF."""
    sessions: dict[str, aiohttp.ClientSession] = {}
    try:
        while line := await asyncio.to_thread(sys.stdin.readline):
            job = LoadJob.from_line(line)
            session = sessions.get(job.url)
            if session is None:
                # One session per URL, so each target keeps its own connections.
                session = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=_CONNECTION_LIMIT),
                    timeout=_REQUEST_TIMEOUT,
                )
                sessions[job.url] = session
            result = await run_job(session, job)
            sys.stdout.write(result.to_line())
            sys.stdout.flush()
    finally:
        for session in sessions.values():
            await session.close()


def main() -> None:
    """Serve jobs until stdin closes."""
    asyncio.run(serve_jobs())


if __name__ == "__main__":
    main()
