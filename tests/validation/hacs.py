"""Check what the HACS action checks in the repository itself.

hacs.json follows HACS's manifest schema (HACS_MANIFEST_JSON_SCHEMA in
hacs/integration, custom_components/hacs/utils/validate.py), which rejects
unknown keys. `render_readme` is still accepted there but no longer
documented, so it is treated as unknown. The `homeassistant` minimum must be
the lowest Home Assistant that requirements_test.txt installs, so HACS never
offers the integration to a release no test ran on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionException
from homeassistant.const import __version__ as HA_VERSION
from packaging.requirements import InvalidRequirement, Requirement

from .problems import Problem, Report

HACS_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "content_in_root": bool,
    "zip_release": bool,
    "filename": str,
    "hide_default_branch": bool,
    "country": (str, list),
    "homeassistant": str,
    "hacs": str,
    "persistent_directory": str,
}
REQUIREMENTS_FILE = "requirements_test.txt"


def check_hacs(root: Path) -> list[Problem]:
    """Return every problem of hacs.json and the repository files HACS needs."""
    problems: list[Problem] = []

    def report(message: str) -> None:
        problems.append(Problem("hacs.json", message))

    try:
        data = json.loads((root / "hacs.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        report("file is missing; HACS requires it at the repository root")
        data = None
    except ValueError as err:
        report(f"invalid JSON: {err}")
        data = None
    if data is not None:
        _check_hacs_json(data, root, report)

    if not any((root / name).is_file() for name in ("README.md", "info.md")):
        problems.append(
            Problem("README.md", "file is missing; HACS shows it as the description")
        )
    if not (root / "LICENSE").is_file():
        problems.append(Problem("LICENSE", "file is missing; HACS requires a license"))
    return problems


def _check_hacs_json(data: Any, root: Path, report: Report) -> None:
    """Check the keys and values of hacs.json."""
    if not isinstance(data, dict):
        report("top level must be a JSON object")
        return
    for key in sorted(set(data) - set(HACS_KEYS)):
        report(f"unknown key {key!r}; HACS rejects it")
    if "name" not in data:
        report("missing key 'name'")
    for key, expected in HACS_KEYS.items():
        if key in data and not isinstance(data[key], expected):
            report(f"{key} has the wrong type {type(data[key]).__name__}")
    if data.get("zip_release") and not data.get("filename"):
        report("zip_release needs filename")

    minimum = data.get("homeassistant")
    if not isinstance(minimum, str):
        report("missing key 'homeassistant' with the lowest supported release")
        return
    try:
        minimum_version = AwesomeVersion(minimum)
        valid = minimum_version.valid
    except AwesomeVersionException:
        valid = False
    if not valid:
        report(f"homeassistant {minimum!r} is not a version")
        return
    tested = tested_home_assistant_versions(root / REQUIREMENTS_FILE)
    if not tested:
        report(
            f"{REQUIREMENTS_FILE} pins no homeassistant version, so the lowest "
            "tested release is unknown"
        )
    elif minimum_version != min(tested):
        report(
            f"homeassistant {minimum!r} is not the lowest release the tests "
            f"install ({min(tested)})"
        )


def pinned_requirements(path: Path) -> list[Requirement]:
    """Return every `name==X` requirement of a requirements file."""
    pins = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if _pinned_version(requirement):
            pins.append(requirement)
    return pins


def pinned_versions(path: Path) -> dict[str, list[str]]:
    """Return the pinned versions of each package, by lowercase name."""
    versions: dict[str, list[str]] = {}
    for requirement in pinned_requirements(path):
        version = _pinned_version(requirement)
        if version is not None:
            versions.setdefault(requirement.name.lower(), []).append(version)
    return versions


def home_assistant_pins(path: Path) -> list[Requirement]:
    """Return every `homeassistant==X` requirement of a requirements file."""
    return [
        pin for pin in pinned_requirements(path) if pin.name.lower() == "homeassistant"
    ]


def tested_home_assistant_versions(path: Path) -> list[AwesomeVersion]:
    """Return the Home Assistant versions a requirements file pins."""
    return [
        AwesomeVersion(version)
        for pin in home_assistant_pins(path)
        if (version := _pinned_version(pin))
    ]


def check_installed_home_assistant(root: Path) -> list[Problem]:
    """Report a Home Assistant installed here that the pins do not select.

    A virtual environment made before the pins changed still runs the old
    release, and every test would then check the wrong Home Assistant.
    """
    selected = [
        _pinned_version(pin)
        for pin in home_assistant_pins(root / REQUIREMENTS_FILE)
        if pin.marker is None or pin.marker.evaluate()
    ]
    if not selected or HA_VERSION in selected:
        return []
    return [
        Problem(
            REQUIREMENTS_FILE,
            f"selects homeassistant {', '.join(map(str, selected))} for this Python, "
            f"but {HA_VERSION} is installed; install the requirements again",
        )
    ]


def _pinned_version(requirement: Requirement) -> str | None:
    """Return the version of an `==` pin, or None."""
    for spec in requirement.specifier:
        if spec.operator == "==":
            return spec.version
    return None
