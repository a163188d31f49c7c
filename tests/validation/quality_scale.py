"""Check quality_scale.yaml lists every Integration Quality Scale rule.

hassfest validates this file only for core integrations, so nothing else
keeps it complete. Each rule is `done`, or a mapping whose `status` is
`todo` or `exempt` with a `comment` that states what is missing or why the
rule does not apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from .problems import Problem

# Rules of each tier as the Home Assistant developer documentation lists
# them (docs/core/integration-quality-scale, 2026).
RULES = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow-test-coverage",
        "config-flow",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery-update-info",
        "discovery",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}
ALL_RULES = frozenset(rule for rules in RULES.values() for rule in rules)


def check_quality_scale(package_dir: Path, root: Path) -> list[Problem]:
    """Return every problem of quality_scale.yaml."""
    path = package_dir / "quality_scale.yaml"
    relative = str(path.relative_to(root))
    problems: list[Problem] = []

    def report(message: str) -> None:
        problems.append(Problem(relative, message))

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        report("file is missing")
        return problems
    except yaml.YAMLError as err:
        report(f"invalid YAML: {err}")
        return problems
    rules = data.get("rules") if isinstance(data, Mapping) else None
    if not isinstance(rules, Mapping):
        report("must contain a mapping called rules")
        return problems

    for rule in sorted(ALL_RULES - set(rules)):
        report(f"rule {rule!r} is missing")
    for rule in sorted(set(rules) - ALL_RULES):
        report(f"rule {rule!r} is not an Integration Quality Scale rule")
    for rule in sorted(set(rules) & ALL_RULES):
        message = _status_problem(rules[rule])
        if message:
            report(f"rule {rule!r}: {message}")
    return problems


def _status_problem(value: object) -> str | None:
    """Return what is wrong with one rule's status, or None."""
    if value == "done":
        return None
    if not isinstance(value, Mapping):
        return "must be done, or a mapping with status and comment"
    status = value.get("status")
    if status not in ("done", "todo", "exempt"):
        return f"status {status!r} is not done, todo or exempt"
    comment = value.get("comment")
    if status != "done" and not (isinstance(comment, str) and comment.strip()):
        return f"status {status} needs a comment that says why"
    return None
