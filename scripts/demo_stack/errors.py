"""The error every failed step of the demo stack raises."""

from __future__ import annotations


class StackError(Exception):
    """A step of starting, driving or stopping the demo stack failed.

    The message names the step that failed and the reason. `log_tail` holds the last
    lines of the hass log when a hass process was running.
    """

    def __init__(self, message: str, *, log_tail: str | None = None) -> None:
        """Store the message and the hass log lines that explain it."""
        super().__init__(message)
        self.log_tail = log_tail
