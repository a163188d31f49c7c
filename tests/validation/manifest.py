"""Check manifest.json as hassfest and HACS do for a custom integration.

The allowed keys and values follow hassfest's custom integration manifest
schema (script/hassfest/manifest.py in home-assistant/core, 2026 versions)
and HACS's integration manifest schema. This project additionally requires
the keys every custom integration should state, and the values that fit a
cloud service that pushes to a webhook.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from awesomeversion import (
    AwesomeVersion,
    AwesomeVersionException,
    AwesomeVersionStrategy,
)
from homeassistant.const import Platform
from packaging.requirements import InvalidRequirement, Requirement

from .problems import Problem, Report
from .source import SourceTree

ALLOWED_KEYS = frozenset(
    {
        "after_dependencies",
        "bluetooth",
        "codeowners",
        "config_flow",
        "dependencies",
        "dhcp",
        "disabled",
        "documentation",
        "domain",
        "homekit",
        "import_executor",
        "integration_type",
        "iot_class",
        "issue_tracker",
        "loggers",
        "mqtt",
        "name",
        "preview_features",
        "quality_scale",
        "requirements",
        "single_config_entry",
        "ssdp",
        "usb",
        "version",
        "zeroconf",
    }
)
REQUIRED_KEYS = (
    "domain",
    "name",
    "version",
    "codeowners",
    "config_flow",
    "documentation",
    "issue_tracker",
    "iot_class",
    "integration_type",
    "requirements",
    "dependencies",
    "after_dependencies",
)
INTEGRATION_TYPES = frozenset(
    {"device", "entity", "hardware", "helper", "hub", "service", "system"}
)
IOT_CLASSES = frozenset(
    {
        "assumed_state",
        "calculated",
        "cloud_polling",
        "cloud_push",
        "local_polling",
        "local_push",
    }
)
QUALITY_SCALES = frozenset(
    {"bronze", "silver", "gold", "platinum", "custom", "no_score", "internal", "legacy"}
)
# Values this integration must have: WattShift pushes events to a webhook,
# and one config entry is one WattShift organisation.
EXPECTED_VALUES = {"iot_class": "cloud_push", "integration_type": "service"}
EXPECTED_MEMBERS = {"dependencies": "webhook", "after_dependencies": "cloud"}
_CORE_DOCUMENTATION = "https://www.home-assistant.io/integrations"
_VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]
# Components hassfest lets any integration import without declaring them:
# every entity platform, plus these.
ALWAYS_ALLOWED_COMPONENTS = frozenset(
    {platform.value for platform in Platform}
    | {
        "alert",
        "automation",
        "conversation",
        "default_config",
        "device_automation",
        "frontend",
        "group",
        "homeassistant",
        "input_boolean",
        "input_button",
        "input_datetime",
        "input_number",
        "input_select",
        "input_text",
        "media_source",
        "onboarding",
        "panel_custom",
        "persistent_notification",
        "person",
        "script",
        "shopping_list",
        "sun",
        "system_health",
        "system_log",
        "timer",
        "webhook",
        "websocket_api",
        "zone",
        "mjpeg",
        "stream",
    }
)


def sort_key(key: str) -> tuple[int, str]:
    """Return the position hassfest wants: domain, name, then alphabetical."""
    return ({"domain": 0, "name": 1}.get(key, 2), key)


def check_manifest(
    manifest: dict[str, Any], package_dir: Path, relative: str
) -> list[Problem]:
    """Return every problem of one manifest.json."""
    problems: list[Problem] = []

    def report(message: str) -> None:
        problems.append(Problem(relative, message))

    keys = list(manifest)
    if keys != sorted(keys, key=sort_key):
        report("keys are not sorted: domain, name, then alphabetical order")
    for key in sorted(set(keys) - ALLOWED_KEYS):
        report(f"unknown key {key!r}; hassfest rejects it")
    for key in REQUIRED_KEYS:
        if key not in manifest:
            report(f"missing key {key!r}")

    if "domain" in manifest and manifest["domain"] != package_dir.name:
        report(
            f"domain {manifest['domain']!r} does not match the directory name "
            f"{package_dir.name!r}"
        )
    for key in ("domain", "name"):
        if key in manifest and not (
            isinstance(manifest[key], str) and manifest[key].strip()
        ):
            report(f"{key} must be a non-empty string")
    _check_version(manifest, report)
    _check_urls(manifest, report)
    _check_lists(manifest, report)
    _check_enums(manifest, report)
    return problems


def _check_version(manifest: dict[str, Any], report: Report) -> None:
    """Report a version Home Assistant would refuse to load."""
    if "version" not in manifest:
        return
    version = manifest["version"]
    try:
        AwesomeVersion(str(version), ensure_strategy=_VERSION_STRATEGIES)
    except AwesomeVersionException:
        report(f"version {version!r} is not a CalVer, SemVer or PEP 440 version")
    else:
        if not isinstance(version, str):
            report("version must be a string")


def _check_urls(manifest: dict[str, Any], report: Report) -> None:
    """Report documentation and issue tracker URLs hassfest or HACS reject."""
    for key in ("documentation", "issue_tracker"):
        if key not in manifest:
            continue
        value = manifest[key]
        parsed = urlparse(value) if isinstance(value, str) else None
        if parsed is None or parsed.scheme != "https" or not parsed.netloc:
            report(f"{key} must be an https URL, not {value!r}")
        elif key == "documentation" and value.startswith(_CORE_DOCUMENTATION):
            report("documentation must point to this integration's own documentation")


def _check_lists(manifest: dict[str, Any], report: Report) -> None:
    """Report list values of the wrong shape."""
    for key in ("codeowners", "requirements", "dependencies", "after_dependencies"):
        value = manifest.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            report(f"{key} must be a list of strings")
            continue
        if key == "codeowners":
            if not value:
                report("codeowners must name at least one GitHub user or team")
            for owner in value:
                if not owner.startswith("@"):
                    report(
                        f"code owner {owner!r} must be a GitHub handle starting with @"
                    )
        if key == "requirements":
            for requirement in value:
                try:
                    Requirement(requirement)
                except InvalidRequirement:
                    report(
                        f"requirement {requirement!r} is not a valid pip requirement"
                    )
    for key, member in EXPECTED_MEMBERS.items():
        value = manifest.get(key)
        if isinstance(value, list) and member not in value:
            report(f"{key} must include {member!r}")
    both = set(manifest.get("dependencies") or []) & set(
        manifest.get("after_dependencies") or []
    )
    for domain in sorted(both):
        report(f"{domain!r} is in both dependencies and after_dependencies")
    if "config_flow" in manifest and manifest["config_flow"] is not True:
        report("config_flow must be true: WattShift is set up in the UI")


def _check_enums(manifest: dict[str, Any], report: Report) -> None:
    """Report values outside hassfest's choices or this integration's needs."""
    choices = {
        "integration_type": INTEGRATION_TYPES,
        "iot_class": IOT_CLASSES,
        "quality_scale": QUALITY_SCALES,
    }
    for key, allowed in choices.items():
        if key in manifest and manifest[key] not in allowed:
            report(
                f"{key} {manifest[key]!r} is not one of {', '.join(sorted(allowed))}"
            )
    for key, expected in EXPECTED_VALUES.items():
        if key in manifest and manifest[key] != expected:
            report(f"{key} must be {expected!r}, not {manifest[key]!r}")


def imported_components(source: SourceTree) -> dict[str, str]:
    """Return each `homeassistant.components.X` imported and where.

    Imports under `if TYPE_CHECKING:` are skipped, as hassfest skips them.
    """
    found: dict[str, str] = {}

    def add(component: str, module_path: Path, node: ast.AST) -> None:
        found.setdefault(component, f"{module_path.name}:{getattr(node, 'lineno', 0)}")

    for module in source.iter_modules():
        for node in _runtime_nodes(module.tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.startswith("homeassistant.components."):
                    add(node.module.split(".")[2], module.path, node)
                elif node.module == "homeassistant.components":
                    for alias in node.names:
                        add(alias.name, module.path, node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("homeassistant.components."):
                        add(alias.name.split(".")[2], module.path, node)
    return found


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Return every node except those under an `if TYPE_CHECKING:` block."""
    nodes: list[ast.AST] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and (
            (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
            or (
                isinstance(node.test, ast.Attribute)
                and node.test.attr == "TYPE_CHECKING"
            )
        ):
            pending.extend(node.orelse)
            continue
        nodes.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return nodes


def check_dependencies(
    manifest: dict[str, Any], source: SourceTree, package_dir: Path, relative: str
) -> list[Problem]:
    """Report components imported but not declared, as hassfest does."""
    allowed = (
        ALWAYS_ALLOWED_COMPONENTS
        | set(manifest.get("dependencies") or [])
        | set(manifest.get("after_dependencies") or [])
        | {manifest.get("domain", package_dir.name)}
    )
    problems = []
    for component, where in sorted(imported_components(source).items()):
        if component in allowed:
            continue
        # hassfest treats a module or package of the same name in the
        # integration as a platform the integration provides.
        if (package_dir / f"{component}.py").is_file() or (
            package_dir / component
        ).is_dir():
            continue
        problems.append(
            Problem(
                relative,
                f"{where} imports component {component!r}, which is neither in "
                "dependencies nor in after_dependencies",
            )
        )
    return problems
