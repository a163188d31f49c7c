"""The jobs the benchmark sends to the load generator and the results it returns.

Both travel as one JSON object per line over the load generator's stdin and
stdout, so the two processes share no event loop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
import json
from typing import Any, Self


@dataclass(frozen=True, slots=True)
class LoadJob:
    """One timed run of POST requests to one URL."""

    url: str
    headers: dict[str, str]
    bodies: list[str]
    """Request bodies, sent in turn."""
    concurrency: int
    """Number of connections, each sending its next request after the previous response."""
    duration_s: float
    """Time limit of the run after the per-connection warm-up request."""
    max_requests: int
    """Request limit of the run; whichever limit is reached first ends it."""
    warm_up: bool = True
    """Send one untimed request per connection first, to open it."""

    def to_line(self) -> str:
        """Encode the job as one JSON line."""
        return json.dumps(asdict(self)) + "\n"

    @classmethod
    def from_line(cls, line: str) -> Self:
        """Decode a job from one JSON line."""
        return cls(**json.loads(line))


@dataclass(frozen=True, slots=True)
class LoadResult:
    """Throughput and latency of one run, seen from the client."""

    requests: int
    """Requests completed in the timed part of the run."""
    errors: int
    """Requests that failed or returned a status other than 200."""
    elapsed_s: float
    client_cpu_s: float
    """CPU time the load generator process used during the timed part."""
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    last_body: str
    """Body of the last response, so the caller can check what was measured."""
    error_sample: str | None = None
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def requests_per_second(self) -> float:
        """Answered requests per second of the timed part."""
        return self.requests / self.elapsed_s

    def to_line(self) -> str:
        """Encode the result as one JSON line."""
        return json.dumps(asdict(self)) + "\n"

    @classmethod
    def from_line(cls, line: str) -> Self:
        """Decode a result from one JSON line."""
        fields: dict[str, Any] = json.loads(line)
        return cls(**fields)
