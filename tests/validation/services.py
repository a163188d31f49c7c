"""Check services.yaml and the action texts against the registered actions.

Home Assistant calls integration services "actions" in its user interface;
the files and translation sections keep the older name `services`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .problems import Problem, Report
from .translations import Strings, is_translation_key
from .usage import Usage

_ACTION_KEYS = {"name", "description", "fields", "sections"}


def load_services_yaml(
    path: Path, problems: list[Problem], relative: str
) -> dict[str, Any] | None:
    """Read services.yaml; None when it is missing or unreadable."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except yaml.YAMLError as err:
        problems.append(Problem(relative, f"invalid YAML: {err}"))
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(relative, "top level must be a mapping of actions"))
        return None
    return data


def action_fields(spec: Any) -> tuple[set[str], set[str]]:
    """Return the field names and section names of one action in services.yaml."""
    fields: set[str] = set()
    sections: set[str] = set()
    if not isinstance(spec, Mapping):
        return fields, sections
    for name, field in (spec.get("fields") or {}).items():
        if isinstance(field, Mapping) and "fields" in field:
            # A collapsible section groups fields under its own name.
            sections.add(name)
            inner, _ = action_fields(field)
            fields |= inner
        else:
            fields.add(name)
    return fields, sections


def check_services(
    package_dir: Path, root: Path, strings: Strings | None, usage: Usage
) -> list[Problem]:
    """Return every problem of services.yaml and the services texts."""
    problems: list[Problem] = []
    yaml_path = package_dir / "services.yaml"
    yaml_relative = str(yaml_path.relative_to(root))
    en_relative = str((package_dir / "translations" / "en.json").relative_to(root))
    described = load_services_yaml(yaml_path, problems, yaml_relative)
    if described is None:
        described = {}
        if usage.actions and not yaml_path.is_file():
            problems.append(
                Problem(yaml_relative, "file is missing but the code registers actions")
            )

    registered = usage.actions
    problems += [
        Problem(
            yaml_relative,
            f"action {action!r} registered at {registered[action]} is not described",
        )
        for action in sorted(set(registered) - set(described))
    ]
    problems += [
        Problem(yaml_relative, f"action {action!r} is described but never registered")
        for action in sorted(set(described) - set(registered))
    ]

    texts = (strings or {}).get("services") or {}

    def report(message: str) -> None:
        problems.append(Problem(en_relative, message))

    for action in sorted(set(registered) | set(described)):
        _check_action_texts(action, described.get(action), texts, report)
    for action in sorted(set(texts) - set(registered) - set(described)):
        report(f"services.{action}: no action has this name")
    return problems


def _check_action_texts(
    action: str, spec: Any, texts: Mapping[str, Any], report: Report
) -> None:
    """Check the name, description and field texts of one action."""
    base = f"services.{action}"
    if not is_translation_key(action):
        report(f"{base}: action name must be lowercase letters, digits and _")
    action_texts = texts.get(action)
    if not isinstance(action_texts, Mapping):
        report(f"{base}: missing name and description of the action")
        return
    for name in ("name", "description"):
        if name not in action_texts:
            report(f"{base}.{name}: missing text")
    for key in sorted(set(action_texts) - _ACTION_KEYS):
        report(
            f"{base}.{key}: hassfest allows only {', '.join(sorted(_ACTION_KEYS))} here"
        )
    fields, sections = action_fields(spec)
    field_texts = action_texts.get("fields") or {}
    for field in sorted(fields):
        for name in ("name", "description"):
            if not isinstance(field_texts.get(field), Mapping) or (
                name not in field_texts[field]
            ):
                report(f"{base}.fields.{field}.{name}: missing text")
    for field in sorted(set(field_texts) - fields):
        report(f"{base}.fields.{field}: services.yaml has no such field")
    section_texts = action_texts.get("sections") or {}
    for section in sorted(sections):
        if not isinstance(section_texts.get(section), Mapping) or (
            "name" not in section_texts[section]
        ):
            report(f"{base}.sections.{section}.name: missing text")
    for section in sorted(set(section_texts) - sections):
        report(f"{base}.sections.{section}: services.yaml has no such section")
