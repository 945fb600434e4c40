"""The package's layout rules, read from the source with ``ast`` (nothing is imported).

- No import cycle anywhere in ``django_rsmq``: every ``import`` / ``from`` statement
  counts, at module level, inside functions and under ``TYPE_CHECKING`` alike (a
  function-level import is still a dependency, it only hides the cycle until it runs).
- ``django_rsmq/engine/`` is a library of its own: it imports nothing from the rest of
  the package and no Django.
- The layers above it: the configuration layer (``conf``, ``connections``) uses only
  the engine; the operator API (``operations/``) uses the configuration layer and the
  engine, never the admin, the commands, the consumer, the Tasks backend or sending.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "django_rsmq"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the module the statement names, resolved to absolute
    names: tuple[str, ...]  # for ``from X import a, b``
    line: int


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(module: str, path: Path) -> Iterator[Import]:
    is_package = path.name == "__init__.py"
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the importing module's package
                base = here[: len(here) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield Import(module, target, tuple(a.name for a in node.names), node.lineno)


def _depends_on(imp: Import) -> set[str]:
    """The package's modules a statement makes ``imp.importer`` depend on."""
    out = set()
    # ``from pkg import mod`` depends on pkg.mod; ``from pkg.mod import attr`` on pkg.mod
    named = [f"{imp.target}.{n}" for n in imp.names if f"{imp.target}.{n}" in MODULES]
    if len(named) < len(imp.names) or not imp.names:
        named.append(imp.target)
    for name in named:
        while name and name not in MODULES:  # ``import pkg.mod.attr``-like spellings
            name = name.rpartition(".")[0]
        if name and name != imp.importer:
            out.add(name)
    return out


def import_graph() -> dict[str, dict[str, int]]:
    """module → {module it imports: line of the first such statement}."""
    graph: dict[str, dict[str, int]] = {m: {} for m in MODULES}
    for module, path in MODULES.items():
        for imp in _imports(module, path):
            if imp.target.split(".")[0] != PACKAGE:
                continue
            for dep in _depends_on(imp):
                graph[module].setdefault(dep, imp.line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one module
    (Tarjan), as ``[a, b, ..., a]``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    out = []
    for component in components:  # walk inside the component back to its start
        start = min(component)
        path, seen = [start], {start}
        while True:
            nxt = sorted(w for w in graph[path[-1]] if w in component)
            back = [w for w in nxt if w == start]
            if back and len(path) > 1:
                out.append([*path, start])
                break
            fresh = [w for w in nxt if w not in seen]
            step = fresh[0] if fresh else nxt[0]
            if step in seen:  # closed a smaller loop: report from there
                out.append([*path[path.index(step) :], step])
                break
            path.append(step)
            seen.add(step)
    return out


def _describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    steps = [f"{a} (line {graph[a][b]}) -> {b}" for a, b in itertools.pairwise(cycle)]
    return "\n    ".join(steps)


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    assert "django_rsmq.conf" in graph["django_rsmq.connections"]  # from .conf import
    assert "django_rsmq.engine" in graph["django_rsmq.connections"]  # from .engine import
    assert "django_rsmq.producer" in graph["django_rsmq.handlers"]  # inside a method
    assert "django_rsmq.handlers" in graph["django_rsmq"]  # under TYPE_CHECKING
    # ``from ..engine import scripts`` is the submodule, not the package
    assert "django_rsmq.engine.scripts" in graph["django_rsmq.engine.redrive"]


def test_cycles_are_found_and_printed() -> None:
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3, "d": 4}, "d": {}}
    (found,) = cycles(graph)
    assert found == ["a", "b", "c", "a"]
    assert _describe(found, graph) == "a (line 1) -> b\n    b (line 2) -> c\n    c (line 3) -> a"


def test_no_import_cycles() -> None:
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles in django_rsmq:\n  " + "\n  ".join(
        _describe(c, graph) for c in found
    )


def test_the_engine_imports_nothing_from_the_django_layer_and_no_django() -> None:
    engine = f"{PACKAGE}.engine"
    wrong = []
    for module, path in MODULES.items():
        if module != engine and not module.startswith(engine + "."):
            continue
        for imp in _imports(module, path):
            top = imp.target.split(".")[0]
            outside = top == PACKAGE and not (
                imp.target == engine or imp.target.startswith(engine + ".")
            )
            if outside or top == "django":
                wrong.append(f"{path.relative_to(ROOT.parent)}:{imp.line}: {imp.target}")
    assert not wrong, "the engine must not import these:\n  " + "\n  ".join(wrong)


#: module (or package) -> the package's modules it may import (itself and the engine
#: always allowed); anything else of ``django_rsmq`` is a layering error
LAYERS = {
    f"{PACKAGE}.conf": (f"{PACKAGE}.sections",),
    f"{PACKAGE}.sections": (),
    f"{PACKAGE}.connections": (f"{PACKAGE}.conf",),
    f"{PACKAGE}.operations": (
        f"{PACKAGE}.conf",
        f"{PACKAGE}.connections",
        f"{PACKAGE}.signals",
        # the outbox's two leaf readers (stats, metrics and health report the outbox)
        f"{PACKAGE}.outbox.backlog",
        f"{PACKAGE}.outbox.model",
        f"{PACKAGE}.outbox.registry",
        # what the periodic entries look like (reads the ledger; sends nothing)
        f"{PACKAGE}.periodic.entries",
        f"{PACKAGE}.periodic.status",
    ),
    f"{PACKAGE}.periodic.entries": (f"{PACKAGE}.conf",),
    f"{PACKAGE}.periodic.status": (
        f"{PACKAGE}.conf",
        f"{PACKAGE}.connections",
        f"{PACKAGE}.periodic.entries",
    ),
    f"{PACKAGE}.outbox.backlog": (f"{PACKAGE}.outbox.model",),
    f"{PACKAGE}.outbox.model": (),
    f"{PACKAGE}.outbox.registry": (),
}


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_the_configuration_layer_and_the_operator_api_use_only_the_layers_below() -> None:
    graph = import_graph()
    wrong = []
    for layer, allowed in LAYERS.items():
        for module, deps in graph.items():
            if not _within(module, layer):
                continue
            for dep, line in deps.items():
                ok = _within(dep, layer) or _within(dep, f"{PACKAGE}.engine")
                if not ok and not any(_within(dep, a) for a in allowed):
                    wrong.append(f"{MODULES[module].relative_to(ROOT.parent)}:{line}: {dep}")
    assert not wrong, "imports across the layers:\n  " + "\n  ".join(wrong)
