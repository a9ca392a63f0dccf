"""The import architecture, checked on the source (an AST walk: nothing is imported).

It reads every module of the runtime packages (``config``, ``customers``,
``billing``, ``support``, ``enrichment``; ``migrations`` excluded), builds the
module import graph (``from pkg import name`` counts as an import of
``pkg.name`` when that is a module, else of ``pkg``) and enforces four rules.
Each failure names the module, the line and the import.

1. **Lower apps stay lower.** ``customers``, ``billing`` and ``support`` never
   import ``enrichment`` (anywhere in the code; docstrings are not code). They
   tell ``enrichment`` about changes with Django signals (``customers.signals``).

2. **No import cycles** between modules. Module-level imports only: imports
   under ``if TYPE_CHECKING:`` do not run, and function-level imports are
   forbidden by rule 3 anyway. A failure prints the cycle, e.g.
   ``a -> b (line 3) -> a (line 9)``.

3. **No imports inside functions**, the usual way of hiding a cycle. Allowed:
   in ``AppConfig.ready()`` (signal receivers and checks register there), and
   the entries of ``OPTIONAL_IMPORTS`` (module, imported name, reason) for a
   genuinely optional dependency. Tests are not checked.

4. **Rooms of ``enrichment`` import downwards only.** The layers, bottom first
   (``LAYERS`` below; rooms on one line are independent of each other)::

       context                  the contract: section dataclasses, EnrichedContext,
                                codec, lazy view, exceptions, the section registry,
                                the prompt layout, token scopes and redaction
       rules      history       pure scoring, flags, next actions | context snapshots,
                                their diffs, the health rows
       churn                    the learned churn model: training data from history,
                                fitting, backtest, the model served from memory
       vendors                  vendor HTTP clients, circuit, rate limit, stored
                                vendor records
       ops                      metrics (reads the vendors' circuits) and the
                                per-process L1 caches; low because the engine and
                                realtime record metrics and keep L1 caches
       realtime                 product status (Statuspage through the vendors' HTTP
                                helpers), agent stats
       providers                the section providers: lower apps' selectors, rules,
                                vendor records, realtime state
       engine                   the service, the batch engine, the two-tier cache
       api admin agents demo    the edges: HTTP API, Django admin, agent helpers,
       management               demo data, commands; also ``enrichment/__init__``,
                                ``enrichment.apps`` and ``enrichment.checks``

   A module may import its own room and the rooms of lower layers. **Edge
   modules** sit above every room wherever they live: the edge rooms,
   ``tasks.py`` (Celery), ``receivers.py`` (signal handlers), ``apps.py``
   and ``management/commands/*``. They may import any room and each other
   (a view queues a task); no other module may import an edge module. The
   lower apps and ``config`` are outside the layers (everything may use the
   lower apps; rules 1 and 2 cover them). Dynamic imports (``import_string``
   of a settings path) are not seen.

A new room must be added to ``LAYERS`` (the test fails until it is).

``KNOWN_VIOLATIONS`` is empty. It exists for a migration in progress: each
entry must still occur (a fixed one fails the test until it is deleted, so the
list only shrinks); anything not on it fails.

5. **Sizes**: no module over 400 lines, no function over 60 lines (data tables
   written as code are listed in ``DATA_TABLES``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.import_graph import (
    Import,
    Layers,
    Sources,
    Violation,
    collect_imports,
    cycle_violations,
    function_import_violations,
    import_graph,
    lower_app_violations,
    read_sources,
    report,
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("config", "customers", "billing", "support", "enrichment")
LOWER_APPS = ("customers", "billing", "support")

# The rooms of enrichment, bottom layer first (see the module docstring).
LAYERS = Layers(
    app="enrichment",
    order=[
        ("context",),
        ("rules", "history"),
        ("churn",),
        ("vendors",),
        ("ops",),
        ("realtime",),
        ("providers",),
        ("engine",),
        ("experiments",),
        ("api", "admin", "agents", "demo", "management", "mcp_server"),  # the edges
    ],
    # Edge modules in any room: Celery tasks, signal receivers, app configs, commands.
    edge_module_names=frozenset({"tasks", "receivers", "apps"}),
    edge_packages=frozenset({"management"}),
    # enrichment/__init__.py, apps.py and checks.py: the app itself, at the top.
    root_modules=frozenset({"enrichment", "enrichment.apps", "enrichment.checks"}),
)

# Imports allowed inside functions: {(module, imported name): why}. Only a
# genuinely optional dependency (not in requirements.txt, or heavy and needed
# by one rarely used path) belongs here, e.g.
#     ("enrichment.ops.profiling", "pyinstrument"): "optional profiler, not installed in production",
# Everything in requirements.txt is imported at module level: none today.
OPTIONAL_IMPORTS: dict[tuple[str, str], str] = {}

# Violations tolerated while a change is in progress: (rule, module, imported
# module or name), rule "function-import" (rule 3) or "upward" (rule 4). Empty.
KNOWN_VIOLATIONS: set[tuple[str, str, str]] = set()


# -- the checks on this repository ---------------------------------------------------------------
@pytest.fixture(scope="module")
def sources() -> dict[str, tuple[str, bool]]:
    return read_sources(ROOT, PACKAGES)


@pytest.fixture(scope="module")
def imports(sources) -> list[Import]:
    return collect_imports(sources)


def test_every_room_is_placed_in_the_layers(sources):
    placed = {room for rooms in LAYERS.order for room in rooms}
    rooms = {room for module in sources if (room := LAYERS.room_of(module))}
    assert rooms <= placed, f"rooms missing from LAYERS in {__name__}: {sorted(rooms - placed)}"
    assert len(placed) == sum(len(rooms) for rooms in LAYERS.order), "a room is listed twice in LAYERS"


def test_lower_apps_never_import_enrichment(imports):
    found = list(lower_app_violations(imports, lower_apps=LOWER_APPS, app="enrichment"))
    assert not found, "customers, billing and support must not import enrichment:\n" + report(found)


def test_no_import_cycles(sources, imports):
    found = list(cycle_violations(import_graph(imports, sources)))
    assert not found, "import cycles (module-level imports):\n" + report(found)


def test_no_imports_inside_functions(imports):
    found = [v for v in function_import_violations(imports, optional=OPTIONAL_IMPORTS) if v.key not in KNOWN_VIOLATIONS]
    assert not found, "imports inside functions (allowed only in AppConfig.ready() and OPTIONAL_IMPORTS):\n" + report(found)


def test_rooms_import_downwards_only(imports):
    found = [v for v in LAYERS.violations(imports) if v.key not in KNOWN_VIOLATIONS]
    assert not found, "imports against the layer order (see this module's docstring):\n" + report(found)


def test_optional_imports_are_explained_and_still_used(imports):
    assert all(reason.strip() for reason in OPTIONAL_IMPORTS.values()), "every OPTIONAL_IMPORTS entry says why"
    used = {(imp.module, imp.target) for imp in imports if imp.in_function}
    unused = sorted(set(OPTIONAL_IMPORTS) - used)
    assert not unused, f"no longer imported inside a function, remove from OPTIONAL_IMPORTS: {unused}"


def test_known_violations_still_occur(imports):
    """The allowlist only shrinks: a violation that was fixed must leave it."""
    current = {v.key for v in function_import_violations(imports, optional=OPTIONAL_IMPORTS)} | {v.key for v in LAYERS.violations(imports)}
    gone = sorted(KNOWN_VIOLATIONS - current)
    assert not gone, "fixed: remove these entries from KNOWN_VIOLATIONS:\n" + "\n".join(f"  {entry}" for entry in gone)


# -- the checker catches what it should (synthetic modules) ---------------------------------------
def all_violations(sources: Sources) -> list[Violation]:
    imports = collect_imports(sources)
    return [
        *lower_app_violations(imports, lower_apps=LOWER_APPS, app="enrichment"),
        *function_import_violations(imports, optional=OPTIONAL_IMPORTS),
        *LAYERS.violations(imports),
        *cycle_violations(import_graph(imports, sources)),
    ]


def _synthetic(**modules: str) -> dict[str, tuple[str, bool]]:
    sources = {name.replace("__", "."): (source, False) for name, source in modules.items()}
    for name in list(sources):
        parts = name.split(".")
        for depth in range(1, len(parts)):
            sources.setdefault(".".join(parts[:depth]), ("", True))
    return sources


def test_checker_reports_a_cycle_with_its_path():
    sources = _synthetic(
        enrichment__rules__a="from enrichment.rules import b\n",
        enrichment__rules__b="from enrichment.rules.c import thing\n",
        enrichment__rules__c="import enrichment.rules.a\n",
    )
    found = [v for v in all_violations(sources) if v.rule == "cycle"]
    assert len(found) == 1
    assert found[0].message.startswith("import cycle: enrichment.rules.a -> enrichment.rules.b (line 1")
    assert "-> enrichment.rules.a (line 1 of enrichment.rules.c: import enrichment.rules.a)" in found[0].message


def test_checker_ignores_type_checking_imports_for_cycles():
    sources = _synthetic(
        enrichment__rules__a="from enrichment.rules import b\n",
        enrichment__rules__b="from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from enrichment.rules.a import A\n",
    )
    assert [v for v in all_violations(sources) if v.rule == "cycle"] == []


def test_checker_reports_upward_imports_and_edge_imports():
    sources = _synthetic(
        enrichment__rules__flags="from enrichment.realtime.product_status import FLAG_IMPACTS\n",
        enrichment__realtime__product_status="from enrichment.rules.flags import RULES\n",
        enrichment__vendors__services="from enrichment.vendors.tasks import fetch\n",
        enrichment__vendors__tasks="from enrichment.engine.services import invalidate\n",
        enrichment__engine__services="",
        enrichment__history__snapshots="from enrichment.rules.flags import RULES\n",
    )
    found = {v.key for v in all_violations(sources) if v.rule == "upward"}
    assert found == {
        ("upward", "enrichment.rules.flags", "enrichment.realtime.product_status"),
        ("upward", "enrichment.vendors.services", "enrichment.vendors.tasks"),
        ("upward", "enrichment.history.snapshots", "enrichment.rules.flags"),  # same layer: independent rooms
    }


def test_checker_reports_function_imports_except_in_ready():
    sources = _synthetic(
        enrichment__apps=(
            "from django.apps import AppConfig\nclass C(AppConfig):\n    def ready(self):\n        from enrichment import receivers\n"
        ),
        enrichment__receivers="",
        enrichment__rules__scoring="def assess():\n    from enrichment.rules.flags import evaluate\n",
        enrichment__rules__flags="",
        enrichment__engine__service="",
        customers__models="def f():\n    import enrichment.engine\n",
        customers__selectors='"""Called by enrichment.providers: ``from enrichment.providers import x``."""\n',
    )
    found = {v.key for v in all_violations(sources)}
    assert ("function-import", "enrichment.rules.scoring", "enrichment.rules.flags") in found
    assert not any(v[1] == "enrichment.apps" for v in found)
    assert ("lower-app", "customers.models", "enrichment.engine") in found
    assert not any(v[1] == "customers.selectors" for v in found)  # a docstring is not an import


# -- sizes: one idea per module -------------------------------------------------------------------
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# Functions that are data tables written as code: {(module path, function): why}.
DATA_TABLES = {
    ("enrichment/demo/fake_vendors.py", "company_for"): "the fake vendors' canned company records",
}


def _runtime_files() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_module_is_over_400_lines():
    long = [(str(p.relative_to(ROOT)), n) for p in _runtime_files() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]
    assert not long, f"modules over {MAX_MODULE_LINES} lines (probably two ideas): {long}"


def test_no_function_is_over_60_lines():
    long = []
    for path in _runtime_files():
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (rel, node.name) not in DATA_TABLES:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append((rel, node.name, length))
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"
