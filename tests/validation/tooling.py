"""Check that the pre-commit hooks run the tool versions the tests pin.

A hook repository's rev picks the tool version pre-commit installs, so a
rev that drifts from requirements_test.txt lets a commit pass locally and
fail in CI, or the reverse.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .hacs import REQUIREMENTS_FILE, pinned_versions
from .problems import Problem

CONFIG_FILE = ".pre-commit-config.yaml"
# Hook repositories that install one pinned tool, by the end of their URL.
TOOL_REPOSITORIES = {"ruff-pre-commit": "ruff", "mirrors-mypy": "mypy"}


def check_tooling(root: Path) -> list[Problem]:
    """Return a problem for each hook whose version differs from the pin."""
    try:
        config = yaml.safe_load((root / CONFIG_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except yaml.YAMLError as err:
        return [Problem(CONFIG_FILE, f"invalid YAML: {err}")]
    pins = pinned_versions(root / REQUIREMENTS_FILE)
    problems = []
    for repository in (config or {}).get("repos") or []:
        url = str(repository.get("repo", "")).rstrip("/")
        tool = TOOL_REPOSITORIES.get(url.rsplit("/", 1)[-1])
        if tool is None:
            continue
        rev = str(repository.get("rev", "")).removeprefix("v")
        pinned = pins.get(tool)
        if pinned is None:
            problems.append(
                Problem(CONFIG_FILE, f"{REQUIREMENTS_FILE} does not pin {tool}")
            )
        elif rev not in pinned:
            problems.append(
                Problem(
                    CONFIG_FILE,
                    f"{url} is at {rev}, but {REQUIREMENTS_FILE} pins {tool} "
                    f"{', '.join(pinned)}",
                )
            )
    return problems
