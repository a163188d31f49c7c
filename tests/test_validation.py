"""Tests for the offline hassfest and HACS validation of the repository.

The first test checks the real tree. The others change one thing in a copy
of the repository and check that the validator reports exactly that problem,
so a check that silently stopped working would be noticed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
import json
from pathlib import Path
import shutil
import textwrap
from typing import Any

from PIL import Image
import pytest
import yaml

from .validation import find_integration, validate_repository
from .validation.flows import find_flows
from .validation.hacs import pinned_versions
from .validation.source import SourceTree
from .validation.usage import find_usage

REPO_ROOT = Path(__file__).resolve().parent.parent
# Files and directories of the repository that the validator reads.
CHECKED_PATHS = (
    "custom_components",
    "hacs.json",
    "requirements_test.txt",
    "README.md",
    "info.md",
    "LICENSE",
    ".pre-commit-config.yaml",
)
TESTED_HOME_ASSISTANT = (
    'homeassistant==2025.4.4; python_full_version < "3.13.2"\n'
    'homeassistant==2026.2.3; python_full_version >= "3.13.2"\n'
)

type Change = Callable[[Path], None]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Start no Home Assistant instance: the validator only reads files."""


def test_repository_passes_validation() -> None:
    problems = [str(problem) for problem in validate_repository(REPO_ROOT)]
    assert not problems, "\n".join(["the repository has problems:", *problems])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Return a copy of the files the validator reads."""
    for name in CHECKED_PATHS:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(
                source,
                tmp_path / name,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        elif source.is_file():
            shutil.copy2(source, tmp_path / name)
    return tmp_path


@pytest.fixture
def package(repo: Path) -> Path:
    """Return the integration directory inside the copy."""
    package_dir, _ = find_integration(repo)
    assert package_dir is not None
    return package_dir


def changed_problems(root: Path, change: Change) -> tuple[list[str], list[str]]:
    """Return the problems a change adds and the problems it removes."""
    before = [str(problem) for problem in validate_repository(root)]
    change(root)
    after = [str(problem) for problem in validate_repository(root)]
    added = [problem for problem in after if problem not in before]
    removed = [problem for problem in before if problem not in after]
    return added, removed


def edit_json(path: Path, edit: Callable[[dict[str, Any]], object]) -> None:
    """Load a JSON file, let edit change it in place, and write it back."""
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def en_json(package: Path) -> Path:
    """Return the English translation file of the copy."""
    return package / "translations" / "en.json"


def relative(package: Path, *parts: str) -> str:
    """Return a path inside the copied integration as the validator prints it."""
    return str(Path("custom_components", package.name, *parts))


def test_copy_has_same_problems_as_real_tree(repo: Path) -> None:
    copied = [str(problem) for problem in validate_repository(repo)]
    real = [str(problem) for problem in validate_repository(REPO_ROOT)]
    assert copied == real


def test_missing_error_text_is_reported(repo: Path, package: Path) -> None:
    flows = find_flows(SourceTree.parse(package)).flows
    config_errors = sorted(
        error for flow in flows if flow.section == "config" for error in flow.errors
    )
    assert config_errors, "the config flow shows no errors to remove"
    error = config_errors[0]

    added, removed = changed_problems(
        repo,
        lambda _: edit_json(
            en_json(package), lambda d: d["config"]["error"].pop(error)
        ),
    )

    en = relative(package, "translations", "en.json")
    assert added == [
        f"{en}: config.error.{error}: missing text for a key the code uses"
    ]
    assert removed == []


def test_missing_field_label_is_reported(repo: Path, package: Path) -> None:
    flows = find_flows(SourceTree.parse(package)).flows
    step, field = next(
        (step.step_id, min(step.form.fields))
        for flow in flows
        if flow.section == "config"
        for step in flow.steps.values()
        if step.form.fields
    )

    def remove_label(data: dict[str, Any]) -> None:
        data["config"]["step"][step]["data"].pop(field)
        data["config"]["step"][step].get("data_description", {}).pop(field, None)

    added, removed = changed_problems(
        repo, lambda _: edit_json(en_json(package), remove_label)
    )

    en = relative(package, "translations", "en.json")
    assert added == [
        f"{en}: config.step.{step}.data.{field}: missing label for a form field",
        (
            f"{en}: config.step.{step}.data_description.{field}: "
            "missing description for a form field"
        ),
    ]
    assert removed == []


def test_unused_text_is_reported(repo: Path, package: Path) -> None:
    added, removed = changed_problems(
        repo,
        lambda _: edit_json(
            en_json(package),
            lambda d: d["config"]["error"].update(never_shown="Never shown."),
        ),
    )

    en = relative(package, "translations", "en.json")
    assert added == [f"{en}: config.error.never_shown: the code never uses this key"]
    assert removed == []


def test_misspelled_step_key_is_reported(repo: Path, package: Path) -> None:
    def misspell(data: dict[str, Any]) -> None:
        step = next(iter(data["config"]["step"].values()))
        step["descripton"] = "Misspelled key."

    added, removed = changed_problems(
        repo, lambda _: edit_json(en_json(package), misspell)
    )

    en = relative(package, "translations", "en.json")
    first_step = next(iter(json.loads(en_json(package).read_text())["config"]["step"]))
    assert added == [
        (
            f"{en}: config.step.{first_step}.descripton: hassfest allows only data, "
            "data_description, description, menu_options, sections, submit, title here"
        )
    ]
    assert removed == []


def test_unsupplied_placeholder_is_reported(repo: Path, package: Path) -> None:
    usage = find_usage(SourceTree.parse(package), package.name)
    assert usage.issues, "the integration creates no repair issues to change"
    issue = min(use.key for use in usage.issues)

    def add_placeholder(data: dict[str, Any]) -> None:
        data["issues"][issue]["description"] += " Ask {support_contact}."

    added, removed = changed_problems(
        repo, lambda _: edit_json(en_json(package), add_placeholder)
    )

    en = relative(package, "translations", "en.json")
    assert added == [
        (
            f"{en}: issues.{issue}.description: "
            "placeholder {support_contact} is never supplied by the code"
        )
    ]
    assert removed == []


def test_new_flow_step_is_discovered(repo: Path, package: Path) -> None:
    path = package / "config_flow.py"

    def add_step(_: Path) -> None:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        flow_class = next(
            node
            for node in tree.body
            if isinstance(node, ast.ClassDef)
            and any(
                isinstance(base, ast.Name) and base.id == "ConfigFlow"
                for base in node.bases
            )
        )
        insert_after = flow_class.body[0].end_lineno
        assert insert_after is not None
        method = textwrap.indent(
            textwrap.dedent(
                """
                async def async_step_extra(self, user_input=None):
                    return self.async_show_form(
                        step_id="extra",
                        data_schema=vol.Schema({vol.Required("extra_field"): str}),
                        errors={"base": "extra_error"},
                    )
                """
            ),
            "    ",
        )
        lines = source.splitlines(keepends=True)
        lines.insert(insert_after, method)
        path.write_text("".join(lines), encoding="utf-8")

    added, removed = changed_problems(repo, add_step)

    en = relative(package, "translations", "en.json")
    assert added == [
        f"{en}: config.error.extra_error: missing text for a key the code uses",
        f"{en}: config.step.extra: missing texts for a step a flow shows",
    ]
    assert removed == []


def test_unknown_flow_kind_is_reported(repo: Path, package: Path) -> None:
    def add_subentry_flow(_: Path) -> None:
        (package / "subentries.py").write_text(
            textwrap.dedent(
                '''
                """Subentry flows."""

                from homeassistant.config_entries import ConfigSubentryFlow


                class ExtraFlow(ConfigSubentryFlow):
                    """Add something to an entry."""
                '''
            ),
            encoding="utf-8",
        )

    added, removed = changed_problems(repo, add_subentry_flow)

    en = relative(package, "translations", "en.json")
    assert added == [
        (
            f"{en}: flow class subentries.py: ExtraFlow is of a kind the validator "
            "does not check"
        )
    ]
    assert removed == []


def test_manifest_key_order_is_reported(repo: Path, package: Path) -> None:
    def move_version_first(_: Path) -> None:
        path = package / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        reordered = {"version": manifest.pop("version"), **manifest}
        path.write_text(json.dumps(reordered, indent=2) + "\n", encoding="utf-8")

    added, removed = changed_problems(repo, move_version_first)

    assert added == [
        (
            f"{relative(package, 'manifest.json')}: keys are not sorted: "
            "domain, name, then alphabetical order"
        )
    ]
    assert removed == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda m: m.update(website="https://example.com"),
            "unknown key 'website'; hassfest rejects it",
        ),
        (lambda m: m.pop("issue_tracker"), "missing key 'issue_tracker'"),
        (
            lambda m: m.update(iot_class="cloud_polling"),
            "iot_class must be 'cloud_push', not 'cloud_polling'",
        ),
        (
            lambda m: m.update(integration_type="hub"),
            "integration_type must be 'service', not 'hub'",
        ),
        (
            lambda m: m.update(version="one"),
            "version 'one' is not a CalVer, SemVer or PEP 440 version",
        ),
        (
            lambda m: m.update(domain="wattshift_renamed"),
            "domain 'wattshift_renamed' does not match the directory name 'wattshift'",
        ),
        (
            lambda m: m.update(codeowners=["wattshift"]),
            "code owner 'wattshift' must be a GitHub handle starting with @",
        ),
        (
            lambda m: m.update(
                documentation="https://www.home-assistant.io/integrations/wattshift"
            ),
            "documentation must point to this integration's own documentation",
        ),
    ],
    ids=[
        "unknown-key",
        "missing-key",
        "iot-class",
        "integration-type",
        "version",
        "domain",
        "codeowner",
        "documentation",
    ],
)
def test_manifest_value_problem_is_reported(
    repo: Path, package: Path, edit: Callable[[dict[str, Any]], object], expected: str
) -> None:
    added, removed = changed_problems(
        repo, lambda _: edit_json(package / "manifest.json", edit)
    )

    assert added == [f"{relative(package, 'manifest.json')}: {expected}"]
    assert removed == []


def test_undeclared_component_import_is_reported(repo: Path, package: Path) -> None:
    def import_http(_: Path) -> None:
        (package / "views.py").write_text(
            '"""Views."""\n\nfrom homeassistant.components.http import KEY_HASS\n',
            encoding="utf-8",
        )

    added, removed = changed_problems(repo, import_http)

    assert added == [
        (
            f"{relative(package, 'manifest.json')}: views.py:3 imports component "
            "'http', which is neither in dependencies nor in after_dependencies"
        )
    ]
    assert removed == []


def test_type_checking_import_is_ignored(repo: Path, package: Path) -> None:
    def import_for_types(_: Path) -> None:
        (package / "typing_only.py").write_text(
            '"""Types."""\n\nfrom typing import TYPE_CHECKING\n\n'
            "if TYPE_CHECKING:\n"
            "    from homeassistant.components.http import HomeAssistantView\n",
            encoding="utf-8",
        )

    added, removed = changed_problems(repo, import_for_types)

    assert added == []
    assert removed == []


def test_unknown_hacs_key_is_reported(repo: Path) -> None:
    added, removed = changed_problems(
        repo,
        lambda root: edit_json(
            root / "hacs.json", lambda d: d.update(render_readme=True)
        ),
    )

    assert added == ["hacs.json: unknown key 'render_readme'; HACS rejects it"]
    assert removed == []


def test_hacs_minimum_must_match_lowest_tested(repo: Path) -> None:
    requirements = repo / "requirements_test.txt"
    kept = [
        line
        for line in requirements.read_text(encoding="utf-8").splitlines(keepends=True)
        if not line.startswith("homeassistant")
    ]
    requirements.write_text("".join(kept) + TESTED_HOME_ASSISTANT, encoding="utf-8")
    edit_json(repo / "hacs.json", lambda d: d.update(homeassistant="2025.4.4"))

    added, removed = changed_problems(
        repo,
        lambda root: edit_json(
            root / "hacs.json", lambda d: d.update(homeassistant="2026.2.3")
        ),
    )

    assert added == [
        (
            "hacs.json: homeassistant '2026.2.3' is not the lowest release the tests "
            "install (2025.4.4)"
        )
    ]
    assert removed == []


def test_missing_hacs_json_is_reported(repo: Path) -> None:
    added, _ = changed_problems(repo, lambda root: (root / "hacs.json").unlink())

    assert added == [
        "hacs.json: file is missing; HACS requires it at the repository root"
    ]


SENSOR_PLATFORM = '''\
"""Sensors used by the validation tests."""

from homeassistant.components.sensor import SensorEntity, SensorEntityDescription

DESCRIPTIONS = (SensorEntityDescription(key="price", translation_key="price"),)


class PriceSensor(SensorEntity):
    """A price sensor."""

    _attr_has_entity_name = True
'''


def add_sensor_platform(package: Path, *, name: bool = True, icon: bool = True) -> None:
    """Add a module with one translated sensor entity to the copy."""
    (package / "validation_sensor.py").write_text(SENSOR_PLATFORM, encoding="utf-8")
    if name:
        edit_json(
            en_json(package),
            lambda d: (
                d.setdefault("entity", {})
                .setdefault("sensor", {})
                .update(price={"name": "Price"})
            ),
        )
    if icon:
        icons = package / "icons.json"
        if not icons.exists():
            icons.write_text("{}\n", encoding="utf-8")
        edit_json(
            icons,
            lambda d: (
                d.setdefault("entity", {})
                .setdefault("sensor", {})
                .update(price={"default": "mdi:currency-usd"})
            ),
        )


def test_complete_entity_adds_no_problem(repo: Path, package: Path) -> None:
    added, removed = changed_problems(repo, lambda _: add_sensor_platform(package))

    assert added == []
    assert removed == []


def test_missing_entity_icon_is_reported(repo: Path, package: Path) -> None:
    add_sensor_platform(package)

    added, removed = changed_problems(
        repo,
        lambda _: edit_json(
            package / "icons.json", lambda d: d["entity"]["sensor"].pop("price")
        ),
    )

    assert added == [
        (
            f"{relative(package, 'icons.json')}: entity.sensor.price.default: "
            "missing icon for the entity at validation_sensor.py:5"
        )
    ]
    assert removed == []


def test_missing_entity_name_is_reported(repo: Path, package: Path) -> None:
    added, removed = changed_problems(
        repo, lambda _: add_sensor_platform(package, name=False)
    )

    assert added == [
        (
            f"{relative(package, 'translations', 'en.json')}: entity.sensor.price.name: "
            "missing name for the entity at validation_sensor.py:5"
        )
    ]
    assert removed == []


ACTION_MODULE = '''\
"""Actions used by the validation tests."""

from homeassistant.core import HomeAssistant, ServiceCall

from .const import DOMAIN

SERVICE_REFRESH = "refresh"


async def _async_refresh(call: ServiceCall) -> None:
    """Do nothing."""


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions."""
    hass.services.async_register(DOMAIN, SERVICE_REFRESH, _async_refresh)
'''
ACTION_TEXTS = {
    "name": "Refresh",
    "description": "Asks WattShift for new data.",
    "fields": {"delay": {"name": "Delay", "description": "Seconds to wait first."}},
}


def add_action(package: Path) -> None:
    """Add a described, translated action with an icon to the copy."""
    (package / "validation_actions.py").write_text(ACTION_MODULE, encoding="utf-8")
    services_yaml = package / "services.yaml"
    described = {}
    if services_yaml.exists():
        described = yaml.safe_load(services_yaml.read_text(encoding="utf-8")) or {}
    described["refresh"] = {"fields": {"delay": {"selector": {"number": None}}}}
    services_yaml.write_text(yaml.safe_dump(described), encoding="utf-8")
    edit_json(
        en_json(package),
        lambda d: d.setdefault("services", {}).update(refresh=ACTION_TEXTS),
    )
    icons = package / "icons.json"
    if not icons.exists():
        icons.write_text("{}\n", encoding="utf-8")
    edit_json(
        icons,
        lambda d: d.setdefault("services", {}).update(
            refresh={"service": "mdi:refresh"}
        ),
    )


def test_complete_action_adds_no_problem(repo: Path, package: Path) -> None:
    added, removed = changed_problems(repo, lambda _: add_action(package))

    assert added == []
    assert removed == []


def test_missing_action_icon_is_reported(repo: Path, package: Path) -> None:
    add_action(package)

    added, removed = changed_problems(
        repo,
        lambda _: edit_json(
            package / "icons.json", lambda d: d["services"].pop("refresh")
        ),
    )

    assert added == [
        (
            f"{relative(package, 'icons.json')}: services.refresh: missing icon for the "
            "action registered at validation_actions.py:16"
        )
    ]
    assert removed == []


def test_missing_action_description_is_reported(repo: Path, package: Path) -> None:
    add_action(package)

    added, removed = changed_problems(
        repo,
        lambda _: edit_json(
            en_json(package),
            lambda d: d["services"]["refresh"]["fields"]["delay"].pop("description"),
        ),
    )

    assert added == [
        (
            f"{relative(package, 'translations', 'en.json')}: "
            "services.refresh.fields.delay.description: missing text"
        )
    ]
    assert removed == []


def test_undescribed_action_is_reported(repo: Path, package: Path) -> None:
    add_action(package)

    def undescribe(_: Path) -> None:
        path = package / "services.yaml"
        described = yaml.safe_load(path.read_text(encoding="utf-8"))
        described.pop("refresh")
        path.write_text(yaml.safe_dump(described), encoding="utf-8")

    added, removed = changed_problems(repo, undescribe)

    en = relative(package, "translations", "en.json")
    assert added == [
        (
            f"{relative(package, 'services.yaml')}: action 'refresh' registered at "
            "validation_actions.py:16 is not described"
        ),
        f"{en}: services.refresh.fields.delay: services.yaml has no such field",
    ]
    assert removed == []


def test_wrong_icon_size_is_reported(repo: Path, package: Path) -> None:
    def shrink_icon(_: Path) -> None:
        path = package / "brand" / "icon.png"
        with Image.open(path) as image:
            image.resize((200, 200)).save(path)

    added, removed = changed_problems(repo, shrink_icon)

    assert added == [
        (
            f"{relative(package, 'brand', 'icon.png')}: is 200x200 px; "
            "an icon must be 256x256"
        )
    ]
    assert removed == []


def test_untrimmed_logo_is_reported(repo: Path, package: Path) -> None:
    def pad_logo(_: Path) -> None:
        path = package / "brand" / "logo.png"
        with Image.open(path) as image:
            padded = Image.new(
                "RGBA", (image.width + 20, image.height + 20), (0, 0, 0, 0)
            )
            padded.alpha_composite(image.convert("RGBA"), (10, 10))
        padded.save(path)

    added, removed = changed_problems(repo, pad_logo)

    assert added == [
        (
            f"{relative(package, 'brand', 'logo.png')}: is not trimmed: "
            "the drawing must reach two opposite edges"
        )
    ]
    assert removed == []


def test_missing_quality_rule_is_reported(repo: Path, package: Path) -> None:
    path = package / "quality_scale.yaml"

    def drop_brands_rule(_: Path) -> None:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        start = lines.index("  brands:\n")
        end = start + 1
        while lines[end].startswith("    "):
            end += 1
        path.write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")

    added, removed = changed_problems(repo, drop_brands_rule)

    assert added == [
        f"{relative(package, 'quality_scale.yaml')}: rule 'brands' is missing"
    ]
    assert removed == []


def test_exempt_rule_without_reason_is_reported(repo: Path, package: Path) -> None:
    path = package / "quality_scale.yaml"

    def drop_comment(_: Path) -> None:
        text = path.read_text(encoding="utf-8")
        rule = "  docs-triggers:\n    status: exempt\n"
        start = text.index(rule) + len(rule)
        end = text.index("\n", start) + 1
        path.write_text(text[:start] + text[end:], encoding="utf-8")

    added, removed = changed_problems(repo, drop_comment)

    assert added == [
        (
            f"{relative(package, 'quality_scale.yaml')}: rule 'docs-triggers': "
            "status exempt needs a comment that says why"
        )
    ]
    assert removed == []


def test_hook_version_drift_is_reported(repo: Path) -> None:
    config = repo / ".pre-commit-config.yaml"
    ruff_pins = pinned_versions(repo / "requirements_test.txt")["ruff"]

    def move_ruff_hook(_: Path) -> None:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        for repository in data["repos"]:
            if repository["repo"].endswith("/ruff-pre-commit"):
                repository["rev"] = "v0.0.1"
        config.write_text(yaml.safe_dump(data), encoding="utf-8")

    added, removed = changed_problems(repo, move_ruff_hook)

    assert added == [
        (
            ".pre-commit-config.yaml: https://github.com/astral-sh/ruff-pre-commit is at "
            f"0.0.1, but requirements_test.txt pins ruff {', '.join(ruff_pins)}"
        )
    ]
    assert removed == []


REPAIR_MODULE = '''\
"""Repair flows used by the validation tests."""

from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN


def report_stale_link(hass: HomeAssistant) -> None:
    """Create a fixable issue."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        "stale_link",
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key="stale_link",
    )


class StaleLinkFlow(RepairsFlow):
    """Remove a stale link."""

    async def async_step_init(self, user_input=None):
        """Ask for confirmation."""
        if user_input is not None:
            return self.async_create_entry(data={})
        return self.async_show_form(step_id="confirm_unlink")
'''


def add_repair_flow(package: Path) -> None:
    """Add a fixable issue, its repair flow and their texts to the copy.

    The flow goes into repairs.py, because hassfest lets only that module
    import the repairs component without declaring it in the manifest.
    """
    path = package / "repairs.py"
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(existing + "\n" + REPAIR_MODULE, encoding="utf-8")
    texts = {
        "title": "A link is stale",
        "fix_flow": {
            "step": {
                "confirm_unlink": {
                    "title": "Remove the stale link",
                    "description": "Removes the link to a device that is gone.",
                }
            }
        },
    }
    edit_json(en_json(package), lambda d: d["issues"].update(stale_link=texts))


def test_complete_repair_flow_adds_no_problem(repo: Path, package: Path) -> None:
    added, removed = changed_problems(repo, lambda _: add_repair_flow(package))

    assert added == []
    assert removed == []


def test_missing_repair_step_text_is_reported(repo: Path, package: Path) -> None:
    add_repair_flow(package)

    def drop_step(data: dict[str, Any]) -> None:
        data["issues"]["stale_link"]["fix_flow"]["step"].pop("confirm_unlink")

    added, removed = changed_problems(
        repo, lambda _: edit_json(en_json(package), drop_step)
    )

    assert added == [
        (
            f"{relative(package, 'translations', 'en.json')}: issues: no fixable issue "
            "has fix_flow.step.confirm_unlink texts for the repair flow StaleLinkFlow"
        )
    ]
    assert removed == []
