"""The module import graph of a Python code base, read from the source (an AST
walk: nothing is imported), and the checks ``tests/test_architecture.py`` runs
on it: lower apps, cycles, imports inside functions, layers.

``from pkg import name`` counts as an import of ``pkg.name`` when that is a
module, else of ``pkg``; an import of something outside the code base keeps
its dotted name (``django_redis.cache``).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

Sources = Mapping[str, tuple[str, bool]]  # {module: (source, is_package)}


# -- reading the source --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (project modules resolved to the submodule) or name
    line: int
    text: str  # the import statement
    in_function: str | None  # "Class.method" or "function" when inside one
    type_checking: bool  # under ``if TYPE_CHECKING:``
    allowed_in_function: bool  # inside AppConfig.ready()

    @property
    def module_level(self) -> bool:
        return self.in_function is None and not self.type_checking

    def where(self) -> str:
        scope = f" in {self.in_function}()" if self.in_function else ""
        return f"{self.module} line {self.line}{scope}: {self.text}"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_sources(root: Path, packages: Iterable[str]) -> dict[str, tuple[str, bool]]:
    """{module: (source, is_package)} of the packages under ``root``, without ``migrations``."""
    sources = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.relative_to(root).parts:
                continue
            sources[module_name(path, root)] = (path.read_text(encoding="utf-8"), path.name == "__init__.py")
    return sources


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _is_app_config(node: ast.ClassDef) -> bool:
    return any((isinstance(b, ast.Name) and b.id == "AppConfig") or (isinstance(b, ast.Attribute) and b.attr == "AppConfig")
               for b in node.bases)  # fmt: skip


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules: Mapping[str, object]):
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.modules = modules
        self.imports: list[Import] = []
        self._stack: list[tuple[str, ast.AST]] = []  # enclosing classes and functions
        self._type_checking = 0
        self._ready = 0

    def _resolve(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = self.package.split(".")
        base = base[: len(base) - node.level + 1]
        return ".".join([*base, node.module] if node.module else base)

    def _project(self, name: str) -> str:
        """The project module ``name`` refers to (its longest known prefix), or ``name``."""
        probe = name
        while probe and probe not in self.modules:
            probe = probe.rpartition(".")[0]
        return probe or name

    def _function_scope(self) -> str | None:
        if not any(kind == "def" for kind, _node in self._stack):
            return None
        return ".".join(node.name for _kind, node in self._stack)  # type: ignore[attr-defined]

    def _add(self, node: ast.stmt, targets: Iterable[str]) -> None:
        for target in targets:
            self.imports.append(
                Import(
                    module=self.module,
                    target=self._project(target),
                    line=node.lineno,
                    text=ast.unparse(node),
                    in_function=self._function_scope(),
                    type_checking=self._type_checking > 0,
                    allowed_in_function=self._ready > 0,
                )
            )

    def visit_Import(self, node: ast.Import) -> None:
        self._add(node, list(dict.fromkeys(alias.name for alias in node.names)))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._resolve(node)
        targets = []
        for alias in node.names:
            child = f"{base}.{alias.name}"
            target = child if child in self.modules else base
            if target not in targets:
                targets.append(target)
        self._add(node, targets)

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self._type_checking += 1
        for child in node.body:
            self.visit(child)
        self._type_checking -= 1
        for child in node.orelse:
            self.visit(child)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._stack.append(("class", node))
        self.generic_visit(node)
        self._stack.pop()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        parent = self._stack[-1] if self._stack else None
        ready = (
            node.name == "ready" and parent is not None and parent[0] == "class" and _is_app_config(parent[1])  # type: ignore[arg-type]
        )
        self._stack.append(("def", node))
        self._ready += ready
        self.generic_visit(node)
        self._ready -= ready
        self._stack.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function


def collect_imports(sources: Sources) -> list[Import]:
    imports = []
    for module, (source, is_package) in sources.items():
        collector = _Collector(module, is_package, sources)
        collector.visit(ast.parse(source, filename=module))
        imports.extend(collector.imports)
    return imports


# -- the rules ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Violation:
    rule: str  # lower-app | cycle | function-import | upward
    module: str
    target: str
    message: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.module, self.target)


def _top(module: str) -> str:
    return module.partition(".")[0]


def lower_app_violations(imports: Iterable[Import], *, lower_apps: Sequence[str], app: str) -> Iterator[Violation]:
    """Imports of ``app`` (anywhere in the code) from the ``lower_apps``."""
    for imp in imports:
        if _top(imp.module) in lower_apps and _top(imp.target) == app:
            yield Violation("lower-app", imp.module, imp.target, f"{imp.where()}  (a lower app imports {app})")


def function_import_violations(imports: Iterable[Import], *, optional: Mapping[tuple[str, str], str]) -> Iterator[Violation]:
    """Imports inside functions, except in ``AppConfig.ready()`` and the
    ``optional`` (module, imported name) pairs."""
    for imp in imports:
        if imp.in_function is None or imp.allowed_in_function or (imp.module, imp.target) in optional:
            continue
        yield Violation("function-import", imp.module, imp.target, f"{imp.where()}  (import inside a function)")


@dataclass(frozen=True)
class Layers:
    """The rooms (sub-packages) of ``app``, bottom layer first; rooms of one
    layer are independent, and the last layer holds the edge rooms."""

    app: str
    order: Sequence[tuple[str, ...]]
    edge_module_names: frozenset[str]  # edge modules in any room, by last name (``tasks``)
    edge_packages: frozenset[str]  # edge modules in any room, by a package name (``management``)
    root_modules: frozenset[str]  # the app's own modules outside the rooms: edges

    def room_of(self, module: str) -> str | None:
        """The room of a module of ``app`` (``""`` for its root modules), else None."""
        if _top(module) != self.app:
            return None
        if module in self.root_modules:
            return ""
        return module.split(".")[1]

    def is_edge(self, module: str) -> bool:
        room = self.room_of(module)
        if room is None:
            return False
        parts = module.split(".")
        return (
            room == "" or room in self.order[-1] or parts[-1] in self.edge_module_names or any(part in self.edge_packages for part in parts)
        )

    def index(self, room: str) -> int:
        for index, rooms in enumerate(self.order):
            if room in rooms:
                return index
        raise AssertionError(f"room {room!r} is not placed in the layers")

    def violations(self, imports: Iterable[Import]) -> Iterator[Violation]:
        """Imports of a higher layer, of an independent room of the same
        layer, or of an edge module, from a module that is not an edge."""
        for imp in imports:
            source, target = self.room_of(imp.module), self.room_of(imp.target)
            if source is None or target is None or imp.target == imp.module or self.is_edge(imp.module):
                continue  # outside the app, or an edge: edges may import any room and each other
            if self.is_edge(imp.target):
                yield Violation("upward", imp.module, imp.target, f"{imp.where()}  (imports an edge module)")
                continue
            if source == target:
                continue
            here, there = self.index(source), self.index(target)
            if there >= here:
                why = "a higher layer" if there > here else "an independent room of the same layer"
                yield Violation("upward", imp.module, imp.target, f"{imp.where()}  ({source} imports {target}: {why})")


def import_graph(imports: Iterable[Import], modules: Iterable[str]) -> dict[str, dict[str, Import]]:
    """Module-level edges between project modules: {module: {imported module: first import}}."""
    known = set(modules)
    graph: dict[str, dict[str, Import]] = {module: {} for module in known}
    for imp in imports:
        if imp.module_level and imp.target in known and imp.target != imp.module:
            graph[imp.module].setdefault(imp.target, imp)
    return graph


def _strongly_connected(graph: Mapping[str, Mapping[str, Import]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (components of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def _shortest_cycle(graph: Mapping[str, Mapping[str, Import]], members: list[str]) -> list[str]:
    """A shortest cycle through the first module of a component: [a, b, ..., a]."""
    start, inside = members[0], set(members)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if child in inside and child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def cycle_violations(graph: Mapping[str, Mapping[str, Import]]) -> Iterator[Violation]:
    """One violation per group of modules that import each other, naming one
    shortest cycle through it."""
    for members in _strongly_connected(graph):
        path = _shortest_cycle(graph, members)
        steps = " -> ".join(f"{b} (line {graph[a][b].line} of {a}: {graph[a][b].text})" for a, b in itertools.pairwise(path))
        yield Violation("cycle", path[0], path[1], f"import cycle: {path[0]} -> {steps}")


def report(violations: Iterable[Violation]) -> str:
    return "\n".join(f"  [{v.rule}] {v.message}" for v in violations)
