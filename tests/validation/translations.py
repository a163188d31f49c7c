"""Check translations/en.json against the keys the code uses.

Every key the code uses must have its text, every text must be used, and
every `{placeholder}` in a text must be supplied where the code can be read.
The string rules hassfest applies to custom integrations (no HTML, no
surrounding spaces, no placeholder in single quotes, lowercase keys) are
checked too. The `services` section is checked with services.yaml.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
import json
from pathlib import Path
import re
from typing import Any

from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .flows import Flow, FlowScan, Step
from .problems import Problem, Report
from .usage import KeyUse, Usage

# Placeholders are `{name}`, or `{name, plural, ...}` in ICU message syntax.
_PLACEHOLDER = re.compile(r"\{(\w+)(?=[,}])")
_QUOTED_PLACEHOLDER = re.compile(r"'\{\w+\}'")
_TRANSLATION_KEY = re.compile(r"^(?!.*[_-]{2})(?![_-])[a-z0-9_-]+(?<![_-])$")
_CHECKED_SECTIONS = {
    "title",
    "config",
    "options",
    "exceptions",
    "issues",
    "entity",
    "selector",
    "device",
    "services",
}
_FLOW_PARTS = {"step", "error", "abort", "progress"}
# Keys hassfest's translation schema allows inside each kind of object.
_STEP_KEYS = {
    "title",
    "description",
    "data",
    "data_description",
    "sections",
    "menu_options",
    "submit",
}
_SECTION_KEYS = {"name", "description", "data", "data_description"}
_ENTRY_KEYS = {
    "exceptions": {"message"},
    "issues": {"title", "description", "fix_flow"},
}
_ENTITY_KEYS = {"name", "state", "state_attributes", "unit_of_measurement"}

type Strings = Mapping[str, Any]


def load_strings(path: Path, problems: list[Problem], relative: str) -> Strings | None:
    """Read a translation file, recording a problem if it is not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(relative, "file is missing"))
        return None
    except ValueError as err:
        problems.append(Problem(relative, f"invalid JSON: {err}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(relative, "top level must be a JSON object"))
        return None
    return data


def check_translations(
    strings: Strings, flows: FlowScan, usage: Usage, relative: str
) -> list[Problem]:
    """Return every translation problem of en.json."""
    problems: list[Problem] = []

    def report(message: str) -> None:
        problems.append(Problem(relative, message))

    for path, value in leaves(strings):
        for message in _string_problems(value):
            report(f"{path}: {message}")
    for section in sorted(set(strings) - _CHECKED_SECTIONS):
        report(
            f"{section}: section is not checked by the validator, so its use is unknown"
        )

    for section in ("config", "options"):
        section_flows = [flow for flow in flows.flows if flow.section == section]
        _check_flow_section(strings.get(section), section, section_flows, report)
    for unchecked in flows.unchecked:
        report(f"flow class {unchecked} is of a kind the validator does not check")

    _check_key_uses(strings, "exceptions", usage.exceptions, ("message",), report)
    _check_key_uses(strings, "issues", usage.issues, ("title",), report)
    repair_flows = [flow for flow in flows.flows if flow.section == "repairs"]
    _check_issue_bodies(strings, usage.issues, repair_flows, report)
    _check_entities(strings, usage, report)
    _check_simple(strings, "selector", usage.selectors, None, report)
    _check_simple(strings, "device", usage.devices, "name", report)
    for where in usage.unresolved:
        report(f"cannot check the translation used at {where}")
    return problems


def leaves(strings: Strings, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (dotted path, value) for every non-object value."""
    for key, value in strings.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            yield from leaves(value, path)
        else:
            yield path, value


def placeholders_in(text: object) -> set[str]:
    """Return the placeholder names a text uses."""
    return set(_PLACEHOLDER.findall(text)) if isinstance(text, str) else set()


def is_translation_key(key: str) -> bool:
    """Tell whether key is lowercase letters, digits, `_` and `-` as hassfest wants."""
    return _TRANSLATION_KEY.match(key) is not None


def _string_problems(value: Any) -> list[str]:
    """Return what is wrong with one translated text."""
    if not isinstance(value, str):
        return [f"must be a string, not {type(value).__name__}"]
    found = []
    try:
        cv.string_with_no_html(value)
    except vol.Invalid:
        found.append("contains HTML")
    if value != value.strip():
        found.append("has leading or trailing spaces")
    if not value.strip():
        found.append("is empty")
    if _QUOTED_PLACEHOLDER.search(value):
        found.append("has a placeholder inside single quotes")
    return found


def _child(strings: Any, *path: str) -> Any:
    """Return strings[path[0]][path[1]]..., or None where a key is missing."""
    node = strings
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _keys(node: Any) -> set[str]:
    """Return the keys of a JSON object, or none for anything else."""
    return set(node) if isinstance(node, Mapping) else set()


def _check_flow_section(
    texts: Any,
    section: str,
    flows: list[Flow],
    report: Report,
    *,
    require_all: bool = True,
) -> None:
    """Check the texts of a flow against the flows that use them.

    With require_all False, keys the flows use but the texts lack are not
    reported, because another set of texts may provide them.
    """
    if not flows:
        if texts is not None:
            report(f"{section}: no flow uses these texts")
        return
    steps: dict[str, Step] = {}
    errors: set[str] = set()
    aborts: set[str] = set()
    progress: set[str] = set()
    abort_placeholders: dict[str, set[str] | None] = {}
    for flow in flows:
        for step_id, step in flow.steps.items():
            steps.setdefault(step_id, step)
        errors |= flow.errors
        aborts |= flow.aborts
        progress |= flow.progress
        abort_placeholders.update(flow.abort_placeholders)

    for part in sorted(_keys(texts) - _FLOW_PARTS - {"flow_title", "create_entry"}):
        report(f"{section}.{part}: not a part of a flow's texts")
    if not require_all:
        present_steps = _keys(_child(texts, "step"))
        steps = {key: step for key, step in steps.items() if key in present_steps}
        errors &= _keys(_child(texts, "error"))
        aborts &= _keys(_child(texts, "abort"))
        progress &= _keys(_child(texts, "progress"))
    for step_id in sorted(steps):
        _check_step(texts, section, steps[step_id], report)
    for step_id in sorted(_keys(_child(texts, "step")) - set(steps)):
        report(f"{section}.step.{step_id}: no flow shows this step")

    step_placeholders = [step.placeholders for step in steps.values()]
    supplied_everywhere: set[str] | None = set()
    for supplied in step_placeholders:
        if supplied is None:
            supplied_everywhere = None
            break
        supplied_everywhere |= supplied
    _check_used_set(texts, section, "error", errors, report, supplied_everywhere)
    for reason in sorted(aborts):
        _check_used_set(
            texts,
            section,
            "abort",
            {reason},
            report,
            abort_placeholders.get(reason, set()),
            report_unused=False,
        )
    for reason in sorted(_keys(_child(texts, "abort")) - aborts):
        report(f"{section}.abort.{reason}: no flow aborts with this reason")
    _check_used_set(texts, section, "progress", progress, report, None)


def _check_used_set(
    texts: Any,
    section: str,
    part: str,
    used: set[str],
    report: Report,
    supplied: set[str] | None,
    *,
    report_unused: bool = True,
) -> None:
    """Check one flat mapping of keys to texts against the keys in use."""
    present = _keys(_child(texts, part))
    for key in sorted(used):
        path = f"{section}.{part}.{key}"
        if not is_translation_key(key):
            report(f"{path}: key must be lowercase letters, digits, _ or -")
        if key not in present:
            report(f"{path}: missing text for a key the code uses")
            continue
        _check_placeholders(path, _child(texts, part, key), supplied, report)
    if report_unused:
        for key in sorted(present - used):
            report(f"{section}.{part}.{key}: the code never uses this key")


def _check_step(texts: Any, section: str, step: Step, report: Report) -> None:
    """Check the texts of one step."""
    base = f"{section}.step.{step.step_id}"
    step_texts = _child(texts, "step", step.step_id)
    if not is_translation_key(step.step_id):
        report(f"{base}: step id must be lowercase letters, digits, _ or -")
    if step_texts is None:
        report(f"{base}: missing texts for a step a flow shows")
        return
    _check_allowed_keys(step_texts, base, _STEP_KEYS, report)
    for name in ("title", "description"):
        _check_placeholders(
            f"{base}.{name}", step_texts.get(name), step.placeholders, report
        )
    _check_fields(
        step_texts, base, step.form.fields, step.form.dynamic, step.placeholders, report
    )

    sections = _keys(step_texts.get("sections"))
    for name in sorted(step.form.sections):
        path = f"{base}.sections.{name}"
        section_texts = _child(step_texts, "sections", name)
        if section_texts is None:
            report(f"{path}: missing texts for a form section")
            continue
        if "name" not in section_texts:
            report(f"{path}.name: missing text for a form section")
        _check_allowed_keys(section_texts, path, _SECTION_KEYS, report)
        _check_fields(
            section_texts,
            path,
            step.form.sections[name],
            step.form.dynamic,
            step.placeholders,
            report,
        )
    for name in sorted(sections - set(step.form.sections)):
        report(f"{base}.sections.{name}: the form has no such section")

    menu = _keys(step_texts.get("menu_options"))
    for option in sorted(step.menu_options - menu):
        report(f"{base}.menu_options.{option}: missing text for a menu option")
    for option in sorted(menu - step.menu_options):
        report(f"{base}.menu_options.{option}: the menu has no such option")


def _check_fields(
    texts: Mapping[str, Any],
    base: str,
    fields: set[str],
    dynamic: bool,
    supplied: set[str] | None,
    report: Report,
) -> None:
    """Check the data and data_description texts of a form or section."""
    data = _keys(texts.get("data"))
    descriptions = _keys(texts.get("data_description"))
    for name in sorted(fields):
        if name not in data:
            report(f"{base}.data.{name}: missing label for a form field")
        if name not in descriptions:
            report(
                f"{base}.data_description.{name}: missing description for a form field"
            )
    if not dynamic:
        for name in sorted(data - fields):
            report(f"{base}.data.{name}: the form has no such field")
    # hassfest rejects a description of a field that has no label.
    for name in sorted(descriptions - data):
        report(f"{base}.data_description.{name}: describes a field with no label")
    for name in sorted(descriptions):
        _check_placeholders(
            f"{base}.data_description.{name}",
            _child(texts, "data_description", name),
            supplied,
            report,
        )


def _check_allowed_keys(
    texts: Any, base: str, allowed: set[str], report: Report
) -> None:
    """Report keys hassfest's translation schema does not allow there."""
    for key in sorted(_keys(texts) - allowed):
        report(f"{base}.{key}: hassfest allows only {', '.join(sorted(allowed))} here")


def _check_placeholders(
    path: str, text: Any, supplied: set[str] | frozenset[str] | None, report: Report
) -> None:
    """Report placeholders of a text the code does not supply."""
    if supplied is None:
        return
    for name in sorted(placeholders_in(text) - set(supplied)):
        report(f"{path}: placeholder {{{name}}} is never supplied by the code")


def _check_key_uses(
    strings: Strings,
    section: str,
    uses: list[KeyUse],
    required: tuple[str, ...],
    report: Report,
) -> None:
    """Check exception or issue texts against the keys the code passes."""
    used: set[str] = set()
    for use in sorted(uses, key=lambda use: (use.key, use.where)):
        used.add(use.key)
        path = f"{section}.{use.key}"
        texts = _child(strings, section, use.key)
        if not is_translation_key(use.key):
            report(f"{path}: key must be lowercase letters, digits, _ or -")
        if texts is None:
            report(f"{path}: missing texts for the key used at {use.where}")
            continue
        _check_allowed_keys(texts, path, _ENTRY_KEYS[section], report)
        for name in required:
            if name not in texts:
                report(f"{path}.{name}: missing text for the key used at {use.where}")
            _check_placeholders(
                f"{path}.{name}", texts.get(name), use.placeholders, report
            )
    for key in sorted(_keys(strings.get(section)) - used):
        report(f"{section}.{key}: the code never uses this key")


def _check_issue_bodies(
    strings: Strings, uses: list[KeyUse], repair_flows: list[Flow], report: Report
) -> None:
    """Check the description of each issue, or the fix flow of a fixable one.

    NOTE: which repair flow fixes which issue is decided at run time in
    async_create_fix_flow. So each step, error and abort reason of a repair
    flow only has to appear in the fix_flow texts of some fixable issue.
    """
    checked: set[str] = set()
    fix_flow_texts: list[Any] = []
    for use in sorted(uses, key=lambda use: (use.key, use.where)):
        texts = _child(strings, "issues", use.key)
        if not isinstance(texts, Mapping) or use.key in checked:
            continue
        checked.add(use.key)
        path = f"issues.{use.key}"
        if not use.fixable:
            if "description" not in texts:
                report(
                    f"{path}.description: missing text for the key used at {use.where}"
                )
            _check_placeholders(
                f"{path}.description",
                texts.get("description"),
                use.placeholders,
                report,
            )
            if "fix_flow" in texts:
                report(f"{path}.fix_flow: the issue is not fixable at {use.where}")
            continue
        if "description" in texts:
            report(f"{path}.description: a fixable issue shows its fix_flow instead")
        if "fix_flow" not in texts:
            report(
                f"{path}.fix_flow: missing texts for the fixable issue at {use.where}"
            )
            continue
        fix_flow_texts.append(texts["fix_flow"])
        _check_flow_section(
            texts["fix_flow"],
            f"{path}.fix_flow",
            repair_flows,
            report,
            require_all=False,
        )

    for flow in repair_flows:
        used = {
            "step": set(flow.steps),
            "error": flow.errors,
            "abort": flow.aborts,
            "progress": flow.progress,
        }
        for part, keys in used.items():
            present: set[str] = set()
            for fix_flow in fix_flow_texts:
                present |= _keys(_child(fix_flow, part))
            for key in sorted(keys - present):
                report(
                    f"issues: no fixable issue has fix_flow.{part}.{key} texts for "
                    f"the repair flow {flow.class_name}"
                )


def _check_entities(strings: Strings, usage: Usage, report: Report) -> None:
    """Check entity names against the entity translation keys in use."""
    used: dict[str, set[str]] = {}
    for entity in usage.entities:
        used.setdefault(entity.platform, set()).add(entity.key)
        path = f"entity.{entity.platform}.{entity.key}"
        if not is_translation_key(entity.key):
            report(f"{path}: key must be lowercase letters, digits, _ or -")
        entity_texts = _child(strings, "entity", entity.platform, entity.key)
        if _child(entity_texts, "name") is None:
            report(f"{path}.name: missing name for the entity at {entity.where}")
        if isinstance(entity_texts, Mapping):
            _check_allowed_keys(entity_texts, path, _ENTITY_KEYS, report)
    # NOTE: state and state_attributes texts under a used key are accepted
    # as they are, without matching them to the entity's options.
    texts = strings.get("entity")
    for platform in sorted(_keys(texts)):
        for key in sorted(_keys(texts[platform]) - used.get(platform, set())):
            report(f"entity.{platform}.{key}: no entity uses this translation key")


def _check_simple(
    strings: Strings, section: str, used: set[str], required: str | None, report: Report
) -> None:
    """Check a section whose keys map to one object each."""
    present = _keys(strings.get(section))
    for key in sorted(used):
        if key not in present:
            report(f"{section}.{key}: missing texts for a key the code uses")
        elif required and _child(strings, section, key, required) is None:
            report(f"{section}.{key}.{required}: missing text")
    for key in sorted(present - used):
        report(f"{section}.{key}: the code never uses this key")


def check_other_languages(
    translations_dir: Path, english: Strings, root: Path
) -> list[Problem]:
    """Report texts in other languages whose key English does not have."""
    problems: list[Problem] = []
    english_paths = {path for path, _ in leaves(english)}
    for path in sorted(translations_dir.glob("*.json")):
        if path.name == "en.json":
            continue
        relative = str(path.relative_to(root))
        strings = load_strings(path, problems, relative)
        if strings is None:
            continue
        for key, value in leaves(strings):
            if key not in english_paths:
                problems.append(Problem(relative, f"{key}: en.json has no such key"))
            problems += [
                Problem(relative, f"{key}: {message}")
                for message in _string_problems(value)
            ]
    return problems
