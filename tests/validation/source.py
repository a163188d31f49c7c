"""Parse an integration's Python modules and resolve names without importing them.

The validator reads copies of the integration in temporary directories, so it
never imports the integration itself. Names the integration defines are
resolved from the syntax tree. Names it imports from other packages (Home
Assistant, voluptuous) are imported for real, because only their values matter.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
import importlib
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Module:
    """One parsed Python module of the integration."""

    name: str
    """Dotted name relative to the integration package, "" for __init__.py."""
    path: Path
    tree: ast.Module


@dataclass(frozen=True)
class LocalClass:
    """A class defined in the integration."""

    module: Module
    node: ast.ClassDef


@dataclass(frozen=True)
class LocalFunction:
    """A module-level function defined in the integration."""

    module: Module
    node: ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class LocalValue:
    """A module-level or class-level assignment in the integration."""

    module: Module
    value: ast.expr


@dataclass(frozen=True)
class LocalModule:
    """A module of the integration bound to a name by an import."""

    module: Module


@dataclass(frozen=True)
class External:
    """A Python object from outside the integration."""

    value: Any


type Symbol = LocalClass | LocalFunction | LocalValue | LocalModule | External

_MAX_DEPTH = 20


@dataclass
class SourceTree:
    """Every module of one integration package, with name resolution."""

    package_dir: Path
    modules: dict[str, Module] = field(default_factory=dict)
    _local_only: bool = field(default=False, repr=False)

    @classmethod
    def parse(cls, package_dir: Path) -> SourceTree:
        """Parse every .py file below package_dir."""
        tree = cls(package_dir)
        for path in sorted(package_dir.rglob("*.py")):
            relative = path.relative_to(package_dir).with_suffix("")
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(parts)
            tree.modules[name] = Module(
                name, path, ast.parse(path.read_text(encoding="utf-8"), str(path))
            )
        return tree

    def iter_modules(self) -> Iterator[Module]:
        """Yield the modules in a stable order."""
        yield from (self.modules[name] for name in sorted(self.modules))

    def resolve_local(self, module: Module, node: ast.expr) -> Symbol | None:
        """Resolve like resolve(), but return None instead of importing anything."""
        self._local_only = True
        try:
            return self.resolve(module, node)
        finally:
            self._local_only = False

    def resolve(self, module: Module, node: ast.expr, depth: int = 0) -> Symbol | None:
        """Return what a Name or Attribute expression refers to, if it can tell."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Name):
            return self._resolve_name(module, node.id, depth + 1)
        if isinstance(node, ast.Attribute):
            owner = self.resolve(module, node.value, depth + 1)
            return self._resolve_attribute(owner, node.attr, depth + 1)
        if isinstance(node, ast.Subscript):
            # A generic base such as CoordinatorEntity[Coordinator].
            return self.resolve(module, node.value, depth + 1)
        return None

    def string(self, module: Module, node: ast.expr, depth: int = 0) -> str | None:
        """Return the string an expression always evaluates to, or None."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        symbol = self.resolve(module, node, depth + 1)
        if isinstance(symbol, LocalValue):
            return self.string(symbol.module, symbol.value, depth + 1)
        if isinstance(symbol, External):
            value = symbol.value
            if isinstance(value, Enum):
                value = value.value
            return value if isinstance(value, str) else None
        return None

    def strings(self, module: Module, node: ast.expr) -> set[str]:
        """Return every string a simple expression can evaluate to.

        Conditional expressions and boolean operators contribute each branch,
        so `"a" if x else "b"` gives both strings.
        """
        if isinstance(node, ast.IfExp):
            return self.strings(module, node.body) | self.strings(module, node.orelse)
        if isinstance(node, ast.BoolOp):
            found: set[str] = set()
            for value in node.values:
                found |= self.strings(module, value)
            return found
        value = self.string(module, node)
        return set() if value is None else {value}

    def is_subclass(self, symbol: Symbol | None, base: type, depth: int = 0) -> bool:
        """Tell whether a resolved class derives from an external base class."""
        if depth > _MAX_DEPTH or symbol is None:
            return False
        if isinstance(symbol, External):
            return isinstance(symbol.value, type) and issubclass(symbol.value, base)
        if isinstance(symbol, LocalClass):
            return any(
                self.is_subclass(self.resolve(symbol.module, node), base, depth + 1)
                for node in symbol.node.bases
            )
        return False

    def external_bases(self, symbol: Symbol | None, depth: int = 0) -> list[type]:
        """Return the nearest external classes a resolved class derives from."""
        if depth > _MAX_DEPTH or symbol is None:
            return []
        if isinstance(symbol, External):
            return [symbol.value] if isinstance(symbol.value, type) else []
        if isinstance(symbol, LocalClass):
            found: list[type] = []
            for node in symbol.node.bases:
                found += self.external_bases(
                    self.resolve(symbol.module, node), depth + 1
                )
            return found
        return []

    def class_methods(
        self, symbol: LocalClass, depth: int = 0
    ) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        """Return the methods of a local class, including inherited local ones."""
        methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        if depth > _MAX_DEPTH:
            return methods
        for base in symbol.node.bases:
            resolved = self.resolve(symbol.module, base)
            if isinstance(resolved, LocalClass):
                methods.update(self.class_methods(resolved, depth + 1))
        for statement in symbol.node.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                methods[statement.name] = statement
        return methods

    def _resolve_name(self, module: Module, name: str, depth: int) -> Symbol | None:
        """Resolve a bare name at module level."""
        if depth > _MAX_DEPTH:
            return None
        for statement in module.tree.body:
            symbol = self._symbol_from_statement(module, statement, name, depth)
            if symbol is not None:
                return symbol
        if hasattr(builtins, name):
            return External(getattr(builtins, name))
        return None

    def _symbol_from_statement(
        self, module: Module, statement: ast.stmt, name: str, depth: int
    ) -> Symbol | None:
        """Return the symbol a top-level statement binds to name, if any."""
        if isinstance(statement, ast.ClassDef) and statement.name == name:
            return LocalClass(module, statement)
        if (
            isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
            and statement.name == name
        ):
            return LocalFunction(module, statement)
        if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value:
            targets = (
                statement.targets
                if isinstance(statement, ast.Assign)
                else [statement.target]
            )
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return LocalValue(module, statement.value)
        if isinstance(statement, ast.ImportFrom):
            return self._symbol_from_import_from(module, statement, name, depth)
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound == name and not self._local_only:
                    return _import_external(
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
        if isinstance(statement, ast.If):
            # Names bound under `if TYPE_CHECKING:` exist for type checkers.
            for inner in statement.body + statement.orelse:
                symbol = self._symbol_from_statement(module, inner, name, depth)
                if symbol is not None:
                    return symbol
        return None

    def _symbol_from_import_from(
        self, module: Module, statement: ast.ImportFrom, name: str, depth: int
    ) -> Symbol | None:
        """Return the symbol a `from x import y` statement binds to name."""
        for alias in statement.names:
            if (alias.asname or alias.name) != name:
                continue
            if statement.level == 0 and not self._is_own_package(statement.module):
                if self._local_only:
                    return None
                source = _import_external(statement.module or "")
                if source is not None and hasattr(source.value, alias.name):
                    return External(getattr(source.value, alias.name))
                return _import_external(f"{statement.module}.{alias.name}")
            target = self._relative_module(module, statement)
            if target is None:
                return None
            submodule = ".".join(p for p in (target, alias.name) if p)
            if submodule in self.modules and alias.name not in _defined_names(
                self.modules.get(target)
            ):
                return LocalModule(self.modules[submodule])
            if target in self.modules:
                return self._resolve_name(self.modules[target], alias.name, depth + 1)
        return None

    def _is_own_package(self, dotted: str | None) -> bool:
        """Tell whether an absolute module name is inside this integration."""
        own = f"custom_components.{self.package_dir.name}"
        return dotted is not None and (dotted == own or dotted.startswith(f"{own}."))

    def _relative_module(self, module: Module, statement: ast.ImportFrom) -> str | None:
        """Return the integration-relative name an import inside it points at."""
        if statement.level == 0:
            own = f"custom_components.{self.package_dir.name}"
            return (statement.module or "").removeprefix(own).lstrip(".")
        package = module.name.split(".") if module.name else []
        if module.path.name != "__init__.py":
            package = package[:-1]
        up = statement.level - 1
        if up > len(package):
            return None
        base = package[: len(package) - up] if up else package
        if statement.module:
            base = [*base, *statement.module.split(".")]
        return ".".join(base)

    def _resolve_attribute(
        self, owner: Symbol | None, attr: str, depth: int
    ) -> Symbol | None:
        """Resolve owner.attr for a resolved owner."""
        if isinstance(owner, External):
            if hasattr(owner.value, attr):
                return External(getattr(owner.value, attr))
            return None
        if isinstance(owner, LocalModule):
            return self._resolve_name(owner.module, attr, depth)
        if isinstance(owner, LocalClass):
            for statement in owner.node.body:
                symbol = self._symbol_from_statement(
                    owner.module, statement, attr, depth
                )
                if isinstance(symbol, LocalValue | LocalClass):
                    return symbol
        return None


def _import_external(dotted: str) -> External | None:
    """Import a module from outside the integration, or return None."""
    try:
        return External(importlib.import_module(dotted))
    except ImportError:
        return None


def _defined_names(module: Module | None) -> set[str]:
    """Return the names a module defines or assigns at top level.

    Imports are left out: in `from . import name` the package's own import
    of the submodule binds name, and it must resolve to the submodule.
    """
    if module is None:
        return set()
    names: set[str] = set()
    for statement in module.tree.body:
        if isinstance(statement, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(statement.name)
        elif isinstance(statement, ast.Assign):
            names.update(t.id for t in statement.targets if isinstance(t, ast.Name))
        elif isinstance(statement, ast.AnnAssign) and isinstance(
            statement.target, ast.Name
        ):
            names.add(statement.target.id)
    return names


def call_name(node: ast.Call) -> str | None:
    """Return the last component of a call's function, `c` for `a.b.c()`."""
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def keyword(node: ast.Call, name: str) -> ast.expr | None:
    """Return the expression passed as keyword argument name, if any."""
    for item in node.keywords:
        if item.arg == name:
            return item.value
    return None


def argument(node: ast.Call, position: int, name: str) -> ast.expr | None:
    """Return an argument given by position or by keyword."""
    if len(node.args) > position and not any(
        isinstance(arg, ast.Starred) for arg in node.args[: position + 1]
    ):
        return node.args[position]
    return keyword(node, name)


def dotted_name(node: ast.expr) -> str | None:
    """Return `a.b.c` for an attribute chain of plain names."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = dotted_name(node.value)
        return None if owner is None else f"{owner}.{node.attr}"
    return None
