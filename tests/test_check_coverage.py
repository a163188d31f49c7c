"""Tests for scripts/check_coverage.py, on coverage data measured for real."""

from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys
import textwrap

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_coverage.py"

SAMPLE = textwrap.dedent(
    """
    def covered(value):
        if value:
            return "yes"
        return "no"


    def never_called():
        return 1


    covered(True)
    covered(False)
    """
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Start no Home Assistant instance: these tests run plain programs."""


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a Python program without the coverage of the test run itself."""
    # pytest-cov measures subprocesses through COV_CORE_* variables; a second
    # measurement inside the sample run would mix both data files.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE_")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def measured(tmp_path: Path) -> Path:
    """Measure sample.py (fully covered) and partial.py with branch coverage."""
    (tmp_path / "sample.py").write_text(
        "def covered(value):\n    return 'yes' if value else 'no'\n\ncovered(1)\n",
        encoding="utf-8",
    )
    (tmp_path / "partial.py").write_text(SAMPLE, encoding="utf-8")
    (tmp_path / "main.py").write_text(
        "import partial\nimport sample\n", encoding="utf-8"
    )
    result = run(["-m", "coverage", "run", "--branch", "main.py"], tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path


def test_file_at_floor_passes(measured: Path) -> None:
    result = run([str(SCRIPT), "sample.py=100"], measured)

    assert result.returncode == 0, result.stderr
    assert "Coverage floors met: sample.py >= 100 %" in result.stdout


def test_file_below_floor_fails_with_lines(measured: Path) -> None:
    result = run([str(SCRIPT), "partial.py=100"], measured)

    assert result.returncode == 1
    assert "partial.py: 90.00 % covered, below its floor of 100 %" in result.stderr
    assert "Lines not run: 9" in result.stderr


def test_lower_floor_passes(measured: Path) -> None:
    result = run([str(SCRIPT), "partial.py=90", "sample.py=100"], measured)

    assert result.returncode == 0, result.stderr


def test_glob_checks_each_file(measured: Path) -> None:
    result = run([str(SCRIPT), "*.py=95"], measured)

    assert result.returncode == 1
    assert "partial.py: 90.00 %" in result.stderr
    assert "sample.py" not in result.stderr


def test_unmeasured_file_fails(measured: Path) -> None:
    (measured / "untested.py").write_text("VALUE = 1\n", encoding="utf-8")

    result = run([str(SCRIPT), "untested.py=50"], measured)

    assert result.returncode == 1
    assert "untested.py: no coverage data; no test imported this file" in result.stderr


def test_pattern_matching_nothing_fails(measured: Path) -> None:
    result = run([str(SCRIPT), "renamed.py=100"], measured)

    assert result.returncode == 1
    assert "renamed.py: matches no file" in result.stderr


def test_missing_data_file_is_usage_error(tmp_path: Path) -> None:
    result = run([str(SCRIPT), "sample.py=100"], tmp_path)

    assert result.returncode == 2
    assert (
        ".coverage: no coverage data; run the tests with --cov first" in result.stderr
    )


@pytest.mark.parametrize(
    ("floor", "message"),
    [
        ("sample.py", "invalid floor 'sample.py': expected GLOB=PERCENT"),
        ("=90", "invalid floor '=90': expected GLOB=PERCENT"),
        ("sample.py=high", "invalid floor 'sample.py=high': 'high' is not a number"),
        (
            "sample.py=101",
            "invalid floor 'sample.py=101': 101 is not between 0 and 100",
        ),
    ],
)
def test_invalid_floor_is_usage_error(measured: Path, floor: str, message: str) -> None:
    result = run([str(SCRIPT), floor], measured)

    assert result.returncode == 2
    assert message in result.stderr
