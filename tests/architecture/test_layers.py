"""The structure holds: layers read top-down, no import cycle, no module too long to read.

The imports are read from the source with `ast` (nothing is executed), so a lazy import inside a
function counts the same as one at the top of the module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["core", "notifications", "promises", "qualitygates", "feedback", "api", "web", "demo", "config"]
DOMAIN = {"promises", "qualitygates", "feedback"}
MAX_MODULE_LINES = 450


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")) if (ROOT / app).is_dir() else []:
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The project modules `name` imports (resolved to the longest known module name)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            targets.add(stem)
            targets.update(f"{stem}.{alias.name}" for alias in node.names)
    resolved = set()
    for target in targets:
        parts = target.split(".")
        while parts and ".".join(parts) not in MODULES:
            parts.pop()
        if parts and ".".join(parts) != name:
            resolved.add(".".join(parts))
    return resolved


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _app(module: str) -> str:
    return module.split(".")[0]


def _violations(source_app: str, forbidden: set[str]) -> list[str]:
    return sorted(f"{module} imports {target}"
                  for module, targets in GRAPH.items() if _app(module) == source_app
                  for target in targets if _app(target) in forbidden)


def test_core_imports_no_app_of_the_project():
    assert _violations("core", set(APPS) - {"core"}) == []


def test_notifications_imports_no_domain_app():
    assert _violations("notifications", DOMAIN | {"demo"}) == []


def test_only_the_url_table_imports_the_pages():
    """`web` (the product's pages) sits on the API's layer: it reads through the apps' selectors and
    writes through their services; no app below imports it."""
    assert [f"{m} imports {t}" for m, targets in GRAPH.items() if _app(m) not in {"web", "config"}
            for t in targets if _app(t) == "web"] == []


def test_nothing_imports_the_demo():
    assert [f"{m} imports {t}" for m, targets in GRAPH.items() if _app(m) != "demo"
            for t in targets if _app(t) == "demo"] == []


def test_apps_do_not_reach_up_into_the_api_package():
    """An app's own API (`<app>.api`, `<app>.serializers`) sits on the API layer and uses what the API
    package shares (fields, mixins, pagination); the rest of the app does not reach up into it, and
    nothing but the project's urls imports the API's url table."""
    apps = DOMAIN | {"notifications"}
    api_layer = {f"{app}.{name}" for app in apps for name in ("api", "serializers")}
    below = [v for app in sorted(apps) for v in _violations(app, {"api"})
             if v.split(" imports ")[0] not in api_layer]
    assert below == []
    assert [f"{m} imports api.urls" for m, targets in GRAPH.items()
            if "api.urls" in targets and m != "config.urls"] == []


def test_no_import_cycle_between_modules():
    """Tarjan's strongly connected components over the module graph: every component is one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH.get(node, ()):
            # A package's __init__ importing its own submodules is how a package is built, not a cycle.
            if target.startswith(node + "."):
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_longer_than_the_limit(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines (limit {MAX_MODULE_LINES}); split it by concern"


def test_the_checker_sees_the_project():
    """Guards the checks above against passing on an empty graph."""
    assert {"qualitygates.services", "notifications.services", "promises.models"} <= set(GRAPH)
    assert "promises.models" in GRAPH["qualitygates.services"]
    assert "core.errors" in GRAPH["notifications.delivery"]


def test_error_codes_come_from_the_apps_enums():
    """`code="..."` typed as free text drifts apart (`not_allowed` here, `not_manager` there): every
    domain error names a member of its app's error-code enum instead."""
    free = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                free.extend(f"{module}:{node.lineno}" for kw in node.keywords
                            if kw.arg == "code" and isinstance(kw.value, ast.Constant | ast.JoinedStr))
    assert free == []
