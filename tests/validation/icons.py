"""Check icons.json against the entity translation keys and the actions.

Every entity translation key needs a default icon unless the entity has a
device class, whose icon Home Assistant already shows, and every action needs
an icon. Icons must be Material Design Icons (`mdi:` names), as hassfest
requires.
"""

from __future__ import annotations

from collections.abc import Mapping
import json
from pathlib import Path
from typing import Any

from .problems import Problem
from .translations import leaves
from .usage import Usage

_CHECKED_SECTIONS = {"entity", "services"}


def check_icons(package_dir: Path, root: Path, usage: Usage) -> list[Problem]:
    """Return every problem of icons.json."""
    path = package_dir / "icons.json"
    relative = str(path.relative_to(root))
    problems: list[Problem] = []

    def report(message: str) -> None:
        problems.append(Problem(relative, message))

    try:
        icons: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        icons = {}
    except ValueError as err:
        report(f"invalid JSON: {err}")
        return problems
    if not isinstance(icons, Mapping):
        report("top level must be a JSON object")
        return problems

    for key, value in leaves(icons):
        if not (isinstance(value, str) and value.startswith("mdi:")):
            report(f"{key}: {value!r} is not a Material Design Icon (mdi:...)")
    for section in sorted(set(icons) - _CHECKED_SECTIONS):
        report(
            f"{section}: section is not checked by the validator, so its use is unknown"
        )

    entity_icons = icons.get("entity") or {}
    used: dict[str, set[str]] = {}
    for entity in usage.entities:
        used.setdefault(entity.platform, set()).add(entity.key)
        entry = (entity_icons.get(entity.platform) or {}).get(entity.key)
        if entity.has_device_class:
            continue
        if not isinstance(entry, Mapping) or "default" not in entry:
            report(
                f"entity.{entity.platform}.{entity.key}.default: missing icon for "
                f"the entity at {entity.where}"
            )
    for platform in sorted(entity_icons):
        for key in sorted(set(entity_icons[platform]) - used.get(platform, set())):
            report(f"entity.{platform}.{key}: no entity uses this translation key")

    service_icons = icons.get("services") or {}
    for action, where in sorted(usage.actions.items()):
        entry = service_icons.get(action)
        if not (
            isinstance(entry, str)
            or (isinstance(entry, Mapping) and "service" in entry)
        ):
            report(
                f"services.{action}: missing icon for the action registered at {where}"
            )
    for action in sorted(set(service_icons) - set(usage.actions)):
        report(f"services.{action}: no action has this name")
    return problems
