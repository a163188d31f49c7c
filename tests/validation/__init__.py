"""Offline checks of what hassfest, HACS and integration reviewers check.

`validate_repository(root)` reads a repository checkout (or a copy of it) and
returns every problem it finds. An empty list means the repository passes.
Nothing is imported from the integration, so a modified copy in a temporary
directory is checked exactly like the real tree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .brand import check_brand
from .flows import find_flows
from .hacs import check_hacs, check_installed_home_assistant
from .icons import check_icons
from .manifest import check_dependencies, check_manifest
from .problems import Problem
from .quality_scale import check_quality_scale
from .services import check_services
from .source import SourceTree
from .tooling import check_tooling
from .translations import check_other_languages, check_translations, load_strings
from .usage import find_usage

__all__ = ["Problem", "find_integration", "validate_repository"]


def find_integration(root: Path) -> tuple[Path | None, list[Problem]]:
    """Return the one integration directory HACS would install."""
    candidates = sorted(
        path.parent for path in (root / "custom_components").glob("*/manifest.json")
    )
    if not candidates:
        return None, [
            Problem("custom_components", "no integration with a manifest.json")
        ]
    if len(candidates) > 1:
        names = ", ".join(path.name for path in candidates)
        return candidates[0], [
            Problem(
                "custom_components",
                f"HACS installs only one integration per repository, found {names}",
            )
        ]
    return candidates[0], []


def validate_repository(root: Path) -> list[Problem]:
    """Return every problem of the repository at root, sorted."""
    package_dir, problems = find_integration(root)
    problems += check_hacs(root)
    problems += check_installed_home_assistant(root)
    problems += check_tooling(root)
    if package_dir is None:
        return sorted(problems)

    manifest_path = package_dir / "manifest.json"
    manifest_relative = str(manifest_path.relative_to(root))
    manifest = _load_manifest(manifest_path, manifest_relative, problems)
    problems += check_manifest(manifest, package_dir, manifest_relative)

    try:
        source = SourceTree.parse(package_dir)
    except SyntaxError as err:
        problems.append(Problem(str(package_dir.relative_to(root)), f"{err}"))
        return sorted(problems)
    problems += check_dependencies(manifest, source, package_dir, manifest_relative)

    flows = find_flows(source)
    # Home Assistant loads the integration by its directory name.
    usage = find_usage(source, package_dir.name)
    en_path = package_dir / "translations" / "en.json"
    en_relative = str(en_path.relative_to(root))
    strings = load_strings(en_path, problems, en_relative)
    if strings is not None:
        problems += check_translations(strings, flows, usage, en_relative)
        problems += check_other_languages(en_path.parent, strings, root)
    problems += check_services(package_dir, root, strings, usage)
    problems += check_icons(package_dir, root, usage)
    problems += check_brand(package_dir, root)
    problems += check_quality_scale(package_dir, root)
    return sorted(problems)


def _load_manifest(
    path: Path, relative: str, problems: list[Problem]
) -> dict[str, Any]:
    """Read manifest.json, recording a problem and returning {} if unreadable."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        problems.append(Problem(relative, f"invalid JSON: {err}"))
        return {}
    if not isinstance(manifest, dict):
        problems.append(Problem(relative, "top level must be a JSON object"))
        return {}
    return manifest
