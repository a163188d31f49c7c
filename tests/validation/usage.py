"""Find translation keys outside the flows, and the actions the code registers.

Covers every call that passes `translation_key=`: exceptions, repair issues,
entity descriptions, selectors and device info, plus `_attr_translation_key`
on entity classes, and every action registration Home Assistant offers.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from homeassistant.const import Platform
from homeassistant.helpers.entity import Entity, EntityDescription

from .source import (
    External,
    LocalClass,
    Module,
    SourceTree,
    argument,
    call_name,
    dotted_name,
    keyword,
)

_PLATFORMS = {platform.value for platform in Platform}
_ISSUE_CALLS = {"async_create_issue", "create_issue"}
# Registration function, position and keyword name of the action name.
_ACTION_REGISTRATIONS = {
    "async_register_admin_service": (2, "service"),
    "async_register_entity_service": (0, "name"),
    "async_register_platform_entity_service": (2, "service_name"),
}


@dataclass(frozen=True)
class KeyUse:
    """One use of a translation key and the placeholders the code supplies."""

    key: str
    placeholders: frozenset[str] | None
    """Placeholder names supplied; None when the code builds them at run time."""
    where: str
    fixable: bool = False
    """For a repair issue, whether the code passes is_fixable=True."""


@dataclass(frozen=True)
class EntityKey:
    """An entity translation key with its platform."""

    platform: str
    key: str
    has_device_class: bool
    where: str


@dataclass
class Usage:
    """Translation keys and actions found outside the flows."""

    exceptions: list[KeyUse] = field(default_factory=list)
    issues: list[KeyUse] = field(default_factory=list)
    entities: list[EntityKey] = field(default_factory=list)
    selectors: set[str] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)
    actions: dict[str, str] = field(default_factory=dict)
    """Registered action name and where it is registered."""
    unresolved: list[str] = field(default_factory=list)
    """Uses the validator found but could not read; each is a problem."""


def find_usage(source: SourceTree, domain: str) -> Usage:
    """Scan every module of the integration."""
    usage = Usage()
    for module in source.iter_modules():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call):
                _scan_translation_call(source, module, node, domain, usage)
                _scan_action_registration(source, module, node, domain, usage)
            elif isinstance(node, ast.ClassDef):
                _scan_entity_class(source, module, node, usage)
    return usage


def _where(module: Module, node: ast.AST) -> str:
    """Return file:line for messages."""
    return f"{module.path.name}:{getattr(node, 'lineno', 0)}"


def _scan_translation_call(
    source: SourceTree, module: Module, node: ast.Call, domain: str, usage: Usage
) -> None:
    """Record a call that passes translation_key."""
    key_node = keyword(node, "translation_key")
    if key_node is None:
        return
    where = _where(module, node)
    key = source.string(module, key_node)
    if key is None:
        usage.unresolved.append(f"{where}: translation_key is not a constant string")
        return
    name = call_name(node)
    callee = source.resolve(module, node.func)

    if name in _ISSUE_CALLS:
        issue_domain = argument(node, 1, "domain")
        if issue_domain is None or source.string(module, issue_domain) == domain:
            fixable = keyword(node, "is_fixable")
            usage.issues.append(
                KeyUse(
                    key,
                    _placeholders(node),
                    where,
                    fixable=isinstance(fixable, ast.Constant) and fixable.value is True,
                )
            )
        return
    if source.is_subclass(callee, BaseException):
        given = keyword(node, "translation_domain")
        if given is None or source.string(module, given) == domain:
            usage.exceptions.append(KeyUse(key, _placeholders(node), where))
        return
    if source.is_subclass(callee, EntityDescription):
        platform = _platform_of(source, callee)
        if platform is None:
            usage.unresolved.append(
                f"{where}: cannot tell the entity platform of {name}"
            )
            return
        has_device_class = keyword(node, "device_class") is not None
        usage.entities.append(EntityKey(platform, key, has_device_class, where))
        return
    if name == "SelectSelectorConfig":
        usage.selectors.add(key)
        return
    if name == "DeviceInfo":
        usage.devices.add(key)
        return
    usage.unresolved.append(
        f"{where}: translation_key passed to {name}, which the validator does not know"
    )


def _scan_entity_class(
    source: SourceTree, module: Module, node: ast.ClassDef, usage: Usage
) -> None:
    """Record `_attr_translation_key` set in an entity class."""
    symbol = LocalClass(module, node)
    if not source.is_subclass(symbol, Entity):
        return
    keys: list[tuple[str | None, ast.AST]] = []
    has_device_class = False
    for statement in ast.walk(node):
        if not isinstance(statement, ast.Assign | ast.AnnAssign):
            continue
        targets = (
            statement.targets
            if isinstance(statement, ast.Assign)
            else [statement.target]
        )
        for target in targets:
            name = dotted_name(target)
            if name is None or statement.value is None:
                continue
            attribute = name.split(".")[-1]
            if attribute == "_attr_translation_key":
                keys.append((source.string(module, statement.value), statement))
            elif attribute == "_attr_device_class":
                has_device_class = True
    if not keys:
        return
    platform = _platform_of(source, symbol)
    for key, statement in keys:
        where = _where(module, statement)
        if key is None:
            usage.unresolved.append(
                f"{where}: _attr_translation_key is not a constant string"
            )
        elif platform is None:
            usage.unresolved.append(
                f"{where}: cannot tell the entity platform of {node.name}"
            )
        else:
            usage.entities.append(EntityKey(platform, key, has_device_class, where))


def _platform_of(source: SourceTree, symbol: object) -> str | None:
    """Return the entity platform a description or entity class belongs to."""
    if not isinstance(symbol, LocalClass | External):
        return None
    for base in source.external_bases(symbol):
        parts = base.__module__.split(".")
        if (
            len(parts) >= 3
            and parts[:2] == ["homeassistant", "components"]
            and parts[2] in _PLATFORMS
        ):
            return parts[2]
    return None


def _placeholders(node: ast.Call) -> frozenset[str] | None:
    """Return the literal keys of translation_placeholders."""
    given = keyword(node, "translation_placeholders")
    if given is None:
        return frozenset()
    if isinstance(given, ast.Dict) and all(
        isinstance(key, ast.Constant) and isinstance(key.value, str)
        for key in given.keys
    ):
        return frozenset(
            key.value for key in given.keys if isinstance(key, ast.Constant)
        )
    return None


def _scan_action_registration(
    source: SourceTree, module: Module, node: ast.Call, domain: str, usage: Usage
) -> None:
    """Record an action (service) the integration registers."""
    name = call_name(node)
    where = _where(module, node)
    if name in ("async_register", "register") and isinstance(node.func, ast.Attribute):
        owner = dotted_name(node.func.value)
        if owner is None or owner.split(".")[-1] != "services":
            return
        action_domain = argument(node, 0, "domain")
        if action_domain is None or source.string(module, action_domain) != domain:
            return
        action = argument(node, 1, "service")
    elif name in _ACTION_REGISTRATIONS:
        position, keyword_name = _ACTION_REGISTRATIONS[name]
        if name != "async_register_entity_service":
            action_domain = argument(node, 1, "domain")
            if action_domain is None or source.string(module, action_domain) != domain:
                return
        action = argument(node, position, keyword_name)
    else:
        return
    action_name = None if action is None else source.string(module, action)
    if action_name is None:
        usage.unresolved.append(f"{where}: action name is not a constant string")
        return
    usage.actions.setdefault(action_name, where)
