"""Start and stop a hass process and read its log."""

from __future__ import annotations

import asyncio
from collections import deque
import contextlib
import ctypes
import os
from pathlib import Path
import signal
import socket
import sys
from typing import Final, TextIO

from .errors import StackError

# Seconds hass gets to shut down after SIGTERM before it is killed.
STOP_TIMEOUT: Final = 30.0
_PR_SET_PDEATHSIG: Final = 1


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM to this child when its parent dies.

    This runs in the child between fork and exec. It covers the one case that
    no cleanup code can: the demo or test process being killed with SIGKILL.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class HassProcess:
    """One `python -m homeassistant` process with its console output in a file."""

    def __init__(self, config_dir: Path, log_path: Path, python: str) -> None:
        """Prepare a process for config_dir that logs to log_path."""
        self.config_dir = config_dir
        self.log_path = log_path
        self._python = python
        self._process: asyncio.subprocess.Process | None = None
        self._log_file: TextIO | None = None

    @property
    def pid(self) -> int | None:
        """Process id, or None before start."""
        return None if self._process is None else self._process.pid

    @property
    def returncode(self) -> int | None:
        """Exit code once the process has ended, otherwise None."""
        return None if self._process is None else self._process.returncode

    async def start(self) -> None:
        """Start hass in its own process group.

        A separate process group keeps a terminal's Ctrl-C away from hass, so
        the demo decides when hass stops, and lets stop() end any child that
        hass started.
        `--skip-pip` keeps hass from installing packages: requirements_test.txt
        installs everything the loaded integrations need.
        """
        if self._process is not None:
            raise RuntimeError("hass was started already")
        self._log_file = self.log_path.open("w", encoding="utf-8")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        try:
            self._process = await asyncio.create_subprocess_exec(
                self._python,
                "-m",
                "homeassistant",
                "--config",
                str(self.config_dir),
                "--skip-pip",
                "--log-no-color",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
            )
        except OSError as err:
            self._close_log()
            raise StackError(f"cannot start hass with {self._python}: {err}") from err

    def check_running(self, step: str) -> None:
        """Raise StackError if hass has exited, naming the step that waited."""
        if self._process is not None and self._process.returncode is not None:
            raise StackError(
                f"hass exited with code {self._process.returncode} while {step}",
                log_tail=self.log_tail(),
            )

    async def stop(self, timeout_seconds: float = STOP_TIMEOUT) -> int:
        """Stop hass and return its exit code.

        SIGTERM asks hass to stop, and SIGKILL follows after timeout_seconds.
        """
        process = self._process
        if process is None:
            return 0
        try:
            if process.returncode is None:
                self._signal_group(process.pid, signal.SIGTERM)
                try:
                    async with asyncio.timeout(timeout_seconds):
                        await process.wait()
                except TimeoutError:
                    self._signal_group(process.pid, signal.SIGKILL)
                    await process.wait()
                    raise StackError(
                        f"hass did not stop within {timeout_seconds:.0f} s of SIGTERM and "
                        "was killed",
                        log_tail=self.log_tail(),
                    ) from None
            # hass may have left children in its group (none are expected).
            self._signal_group(process.pid, signal.SIGKILL)
            return process.returncode if process.returncode is not None else 0
        finally:
            self._close_log()

    def log_tail(self, lines: int = 60) -> str:
        """Return the last lines of the hass console log."""
        try:
            with self.log_path.open(encoding="utf-8", errors="replace") as log:
                return "".join(deque(log, maxlen=lines))
        except OSError as err:
            return f"(cannot read {self.log_path}: {err})"

    @staticmethod
    def _signal_group(pgid: int, signum: signal.Signals) -> None:
        """Send a signal to a process group that may have ended already."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signum)

    def _close_log(self) -> None:
        """Close the console log file."""
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
