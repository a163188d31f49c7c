"""Fail when a source file's test coverage is below its own floor.

Coverage's `fail_under` setting applies to the total only. This script reads
the data file a test run left behind and checks chosen files against their own
floor, counting lines and branches the way `coverage report` does. Run it
after the tests, for example

    python scripts/check_coverage.py custom_components/wattshift/config_flow.py=100

Each argument is GLOB=PERCENT. The glob is matched against files on disk
relative to the current directory, so a renamed file makes the check fail
instead of passing unnoticed. `--data-file` names another data file than
.coverage. The exit status is 0 when every file meets its floor, 1 when one
does not, and 2 when the arguments or the data file are unusable.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
import io
from pathlib import Path
import sys

from coverage import Coverage
from coverage.exceptions import CoverageException, NoDataError


@dataclass(frozen=True)
class Floor:
    """A glob of source files and the coverage each must reach, in percent."""

    pattern: str
    percent: float


def parse_floor(text: str) -> Floor:
    """Parse GLOB=PERCENT."""
    pattern, separator, percent = text.rpartition("=")
    if not separator or not pattern:
        raise argparse.ArgumentTypeError(
            f"invalid floor {text!r}: expected GLOB=PERCENT"
        )
    try:
        value = float(percent.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid floor {text!r}: {percent!r} is not a number"
        ) from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(
            f"invalid floor {text!r}: {value:g} is not between 0 and 100"
        )
    return Floor(pattern, value)


def file_percent(cov: Coverage, path: Path) -> float:
    """Return the coverage of one file, lines and branches together."""
    return float(cov.report(include=[str(path)], file=io.StringIO()))


def missing_lines(cov: Coverage, path: Path) -> str:
    """Return the uncovered line numbers of a file, as `coverage report` shows them."""
    return cov.analysis2(str(path))[4]


def check(cov: Coverage, floors: Sequence[Floor], root: Path) -> list[str]:
    """Return one message per file below its floor or missing from the data."""
    measured = {Path(name).resolve() for name in cov.get_data().measured_files()}
    failures = []
    for floor in floors:
        paths = sorted(path for path in root.glob(floor.pattern) if path.is_file())
        if not paths:
            failures.append(f"{floor.pattern}: matches no file")
            continue
        for path in paths:
            shown = path.relative_to(root)
            if path.resolve() not in measured:
                failures.append(
                    f"{shown}: no coverage data; no test imported this file"
                )
                continue
            percent = file_percent(cov, path.resolve())
            if percent < floor.percent:
                failures.append(
                    f"{shown}: {percent:.2f} % covered, below its floor of "
                    f"{floor.percent:g} %. Lines not run: "
                    f"{missing_lines(cov, path.resolve()) or 'none'}. "
                    f"See `coverage report -m --include={shown}` for branches."
                )
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    """Check the floors given on the command line."""
    parser = argparse.ArgumentParser(
        description="Fail when a source file's coverage is below its floor."
    )
    parser.add_argument(
        "--data-file", default=".coverage", help="coverage data file to read"
    )
    parser.add_argument("floors", nargs="+", type=parse_floor, metavar="GLOB=PERCENT")
    args = parser.parse_args(argv)

    data_file = Path(args.data_file)
    if not data_file.is_file():
        print(
            f"{data_file}: no coverage data; run the tests with --cov first",
            file=sys.stderr,
        )
        return 2
    cov = Coverage(data_file=str(data_file))
    try:
        cov.load()
        failures = check(cov, args.floors, Path.cwd())
    except (NoDataError, CoverageException) as err:
        print(f"{data_file}: cannot read coverage data: {err}", file=sys.stderr)
        return 2

    for failure in failures:
        print(f"Coverage floor not met: {failure}", file=sys.stderr)
    if not failures:
        print(
            "Coverage floors met: "
            + ", ".join(f"{f.pattern} >= {f.percent:g} %" for f in args.floors)
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
