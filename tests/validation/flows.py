"""Find the steps, form fields, errors and abort reasons of the data entry flows.

Everything is read from the syntax tree of the flow classes and of the
integration functions their methods call, so a new step, field, error or abort
reason is found without changing the validator. Form fields whose names are
only known at run time (for example one field per chosen entity) are reported
as dynamic, and their texts cannot be checked.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigFlow, OptionsFlow
from homeassistant.data_entry_flow import FlowHandler

from .source import (
    LocalClass,
    LocalFunction,
    LocalValue,
    Module,
    SourceTree,
    call_name,
    dotted_name,
    keyword,
)

# Flow helpers that abort with a fixed reason when called without one.
_IMPLIED_ABORTS = {
    "_abort_if_unique_id_configured": ("error", "already_configured"),
    "_async_abort_entries_match": (None, "already_configured"),
    "_abort_if_unique_id_mismatch": ("reason", "unique_id_mismatch"),
}
_SCHEMA_KEY_MARKERS = {"Required", "Optional", "Exclusive", "Inclusive"}


@dataclass
class FormFields:
    """The fields of one form, its sections and whether some are dynamic."""

    fields: set[str] = field(default_factory=set)
    sections: dict[str, set[str]] = field(default_factory=dict)
    dynamic: bool = False

    def merge(self, other: FormFields) -> None:
        """Add the fields of another form schema."""
        self.fields |= other.fields
        for name, fields in other.sections.items():
            self.sections.setdefault(name, set()).update(fields)
        self.dynamic |= other.dynamic


@dataclass
class Step:
    """One step a flow shows, with what its texts may refer to."""

    step_id: str
    form: FormFields = field(default_factory=FormFields)
    menu_options: set[str] = field(default_factory=set)
    placeholders: set[str] | None = field(default_factory=set)
    """Placeholder names the code supplies; None when it cannot tell."""


@dataclass
class Flow:
    """What one flow class uses from a translation section."""

    section: str
    """Top-level en.json key "config" or "options", or "repairs" for fix flows."""
    class_name: str
    steps: dict[str, Step] = field(default_factory=dict)
    errors: set[str] = field(default_factory=set)
    aborts: set[str] = field(default_factory=set)
    abort_placeholders: dict[str, set[str] | None] = field(default_factory=dict)
    progress: set[str] = field(default_factory=set)


@dataclass
class FlowScan:
    """Every flow class found, and flow classes of a kind not checked."""

    flows: list[Flow] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)


def find_flows(source: SourceTree) -> FlowScan:
    """Return every config, options and repair flow class of the integration."""
    scan = FlowScan()
    for module in source.iter_modules():
        for statement in module.tree.body:
            if not isinstance(statement, ast.ClassDef):
                continue
            symbol = LocalClass(module, statement)
            if source.is_subclass(symbol, ConfigFlow):
                section = "config"
            elif source.is_subclass(symbol, OptionsFlow):
                section = "options"
            elif source.is_subclass(symbol, RepairsFlow):
                section = "repairs"
            elif source.is_subclass(symbol, FlowHandler):
                scan.unchecked.append(f"{module.path.name}: {statement.name}")
                continue
            else:
                continue
            scan.flows.append(_scan_flow(source, symbol, section))
    return scan


def _scan_flow(source: SourceTree, symbol: LocalClass, section: str) -> Flow:
    """Collect what one flow class and the functions it calls use."""
    flow = Flow(section, symbol.node.name)
    methods = source.class_methods(symbol)
    functions = [(symbol.module, node) for node in methods.values()]
    functions += _called_functions(source, symbol.module, list(methods.values()))
    has_reauth = "async_step_reauth" in methods
    has_reconfigure = "async_step_reconfigure" in methods

    for module, function in functions:
        context = _FunctionContext(source, module, function, methods)
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                _scan_call(context, node, flow, has_reauth, has_reconfigure)
            elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                _scan_error_assignment(context, node, flow)
    return flow


def _called_functions(
    source: SourceTree,
    module: Module,
    roots: list[ast.FunctionDef | ast.AsyncFunctionDef],
) -> list[tuple[Module, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Return the integration's module-level functions reachable from roots."""
    found: dict[int, tuple[Module, ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    pending = [(module, root) for root in roots]
    while pending:
        current_module, function = pending.pop()
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            target = source.resolve_local(current_module, node.func)
            if isinstance(target, LocalFunction) and id(target.node) not in found:
                found[id(target.node)] = (target.module, target.node)
                pending.append((target.module, target.node))
    return list(found.values())


@dataclass
class _FunctionContext:
    """One function being scanned, for resolving its local names."""

    source: SourceTree
    module: Module
    function: ast.FunctionDef | ast.AsyncFunctionDef
    methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]

    def local_values(self, name: str) -> list[ast.expr]:
        """Return every value the function assigns to a local name."""
        values: list[ast.expr] = []
        for node in ast.walk(self.function):
            if isinstance(node, ast.Assign):
                if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                    values.append(node.value)
            elif (
                isinstance(node, ast.AnnAssign | ast.NamedExpr)
                and isinstance(node.target, ast.Name)
                and node.target.id == name
                and node.value is not None
            ):
                values.append(node.value)
        return values

    def strings(self, node: ast.expr) -> set[str]:
        """Return the strings an expression can evaluate to, through locals."""
        if isinstance(node, ast.Name) and (values := self.local_values(node.id)):
            found: set[str] = set()
            for value in values:
                found |= self.source.strings(self.module, value)
            return found
        return self.source.strings(self.module, node)


def _scan_call(
    context: _FunctionContext,
    node: ast.Call,
    flow: Flow,
    has_reauth: bool,
    has_reconfigure: bool,
) -> None:
    """Record what one call inside a flow uses."""
    name = call_name(node)
    if name in ("async_show_form", "async_show_menu", "async_show_progress"):
        _scan_show(context, node, flow, name)
    if (reason := keyword(node, "reason")) is not None:
        reasons = context.strings(reason)
        flow.aborts |= reasons
        if name == "async_abort":
            placeholders = _placeholder_names(keyword(node, "description_placeholders"))
            for value in reasons:
                flow.abort_placeholders[value] = placeholders
    if name in _IMPLIED_ABORTS:
        argument_name, default = _IMPLIED_ABORTS[name]
        given = keyword(node, argument_name) if argument_name else None
        if given is None:
            flow.aborts.add(default)
    if name in ("async_update_reload_and_abort", "async_update_and_abort") and (
        keyword(node, "reason") is None
    ):
        if has_reauth:
            flow.aborts.add("reauth_successful")
        if has_reconfigure:
            flow.aborts.add("reconfigure_successful")
    if name == "async_set_unique_id":
        raise_on_progress = keyword(node, "raise_on_progress")
        if not (
            isinstance(raise_on_progress, ast.Constant)
            and raise_on_progress.value is False
        ):
            # Another flow for the same unique id is still open.
            flow.aborts.add("already_in_progress")
    if (errors := keyword(node, "errors")) is not None and isinstance(errors, ast.Dict):
        for value in errors.values:
            flow.errors |= context.strings(value)


def _scan_show(
    context: _FunctionContext, node: ast.Call, flow: Flow, name: str
) -> None:
    """Record a step shown as a form, a menu or a progress message."""
    step_ids = (
        context.strings(step_node) if (step_node := keyword(node, "step_id")) else set()
    )
    if not step_ids and name == "async_show_form":
        # async_show_form defaults step_id to the current step, which the
        # method name gives.
        step_ids = {context.function.name.removeprefix("async_step_")}
    for step_id in step_ids:
        step = flow.steps.setdefault(step_id, Step(step_id))
        placeholders = _placeholder_names(keyword(node, "description_placeholders"))
        if placeholders is None or step.placeholders is None:
            step.placeholders = None
        else:
            step.placeholders |= placeholders
        if (schema := keyword(node, "data_schema")) is not None:
            step.form.merge(_form_fields(context, schema, 0))
        if (options := keyword(node, "menu_options")) is not None:
            step.menu_options |= _menu_options(context, options)
    if (progress := keyword(node, "progress_action")) is not None:
        flow.progress |= context.strings(progress)


def _scan_error_assignment(
    context: _FunctionContext,
    node: ast.Assign | ast.AugAssign | ast.AnnAssign,
    flow: Flow,
) -> None:
    """Record error keys assigned into a dictionary called errors."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    value = node.value
    if value is None:
        return
    for target in targets:
        if isinstance(target, ast.Subscript) and _names_errors(target.value):
            flow.errors |= context.strings(value)
        elif _names_errors(target) and isinstance(value, ast.Dict):
            for item in value.values:
                flow.errors |= context.strings(item)


def _names_errors(node: ast.expr) -> bool:
    """Tell whether an expression is a variable or attribute named errors."""
    name = dotted_name(node)
    return name is not None and name.split(".")[-1].lstrip("_") == "errors"


def _placeholder_names(node: ast.expr | None) -> set[str] | None:
    """Return the keys of a literal placeholder dict; None if not literal."""
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return set()
    if isinstance(node, ast.Dict) and all(
        isinstance(key, ast.Constant) and isinstance(key.value, str)
        for key in node.keys
    ):
        return {key.value for key in node.keys if isinstance(key, ast.Constant)}
    return None


def _menu_options(context: _FunctionContext, node: ast.expr) -> set[str]:
    """Return the option ids of a literal menu."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        found: set[str] = set()
        for item in node.elts:
            found |= context.strings(item)
        return found
    if isinstance(node, ast.Dict):
        found = set()
        for key in node.keys:
            if key is not None:
                found |= context.strings(key)
        return found
    return set()


def _form_fields(context: _FunctionContext, node: ast.expr, depth: int) -> FormFields:
    """Return the fields a data_schema expression builds."""
    form = FormFields()
    if depth > 10:
        form.dynamic = True
        return form
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            _add_schema_key(context, form, key, value, depth)
        return form
    if isinstance(node, ast.DictComp):
        form.dynamic = True
        return form
    if isinstance(node, ast.Name):
        values = context.local_values(node.id)
        if values:
            for value in values:
                form.merge(_form_fields(context, value, depth + 1))
            return form
        symbol = context.source.resolve(context.module, node)
        if isinstance(symbol, LocalValue):
            inner = _FunctionContext(
                context.source, symbol.module, context.function, context.methods
            )
            return _form_fields(inner, symbol.value, depth + 1)
        form.dynamic = True
        return form
    if isinstance(node, ast.Call):
        return _form_fields_of_call(context, node, depth)
    form.dynamic = True
    return form


def _form_fields_of_call(
    context: _FunctionContext, node: ast.Call, depth: int
) -> FormFields:
    """Return the fields built by a call inside a data_schema expression."""
    form = FormFields()
    name = call_name(node)
    if name == "Schema" and node.args:
        form.merge(_form_fields(context, node.args[0], depth + 1))
        return form
    if name == "extend" and isinstance(node.func, ast.Attribute):
        form.merge(_form_fields(context, node.func.value, depth + 1))
        for arg in node.args:
            form.merge(_form_fields(context, arg, depth + 1))
        return form
    if name == "add_suggested_values_to_schema" and node.args:
        return _form_fields(context, node.args[0], depth + 1)

    # A helper that builds the schema: scan what it returns.
    function: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    module = context.module
    if (
        isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
    ):
        function = context.methods.get(node.func.attr)
    else:
        target = context.source.resolve(context.module, node.func)
        if isinstance(target, LocalFunction):
            function, module = target.node, target.module
    if function is None:
        form.dynamic = True
        return form
    inner = _FunctionContext(context.source, module, function, context.methods)
    for statement in ast.walk(function):
        if isinstance(statement, ast.Return) and statement.value is not None:
            form.merge(_form_fields(inner, statement.value, depth + 1))
    return form


def _add_schema_key(
    context: _FunctionContext,
    form: FormFields,
    key: ast.expr | None,
    value: ast.expr,
    depth: int,
) -> None:
    """Add one `vol.Required(name): validator` entry to form."""
    if key is None:
        form.dynamic = True
        return
    name_node = key
    if isinstance(key, ast.Call) and call_name(key) in _SCHEMA_KEY_MARKERS and key.args:
        name_node = key.args[0]
    names = context.strings(name_node)
    if len(names) != 1:
        form.dynamic = True
        return
    (name,) = names
    if isinstance(value, ast.Call) and call_name(value) == "section" and value.args:
        inner = _form_fields(context, value.args[0], depth + 1)
        form.sections.setdefault(name, set()).update(inner.fields)
        form.dynamic |= inner.dynamic
        return
    form.fields.add(name)
