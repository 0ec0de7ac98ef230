"""The shape of the package: imports point down the layers, no import cycles, and only the
store speaks SQL.

Layers, top down, in the order of DESIGN.md's layout list (a module may import from its own
layer or any below, never above; rooms on one layer may use each other, never in a loop):
cli, daemon, demo -> app -> sync, lock, check, detect, drafts, report, team -> link ->
store, mailbox, parse -> config -> model, errors, clock, domains, files.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mailkeeper"

LAYERS: list[set[str]] = [
    {"cli", "daemon", "__main__", "demo"},
    {"app"},
    {"sync", "lock", "check", "detect", "drafts", "report", "team"},
    {"link"},
    {"store", "mailbox", "parse"},
    {"config"},
    {"model", "errors", "clock", "domains", "files"},
]
# At most this many modules directly in mailkeeper/ (the rest live in rooms by stage).
HALL_LIMIT = 14
# Only these may call execute / executemany / executescript.
SQL_HOME = "store"
SQL_CALLS = {"execute", "executemany", "executescript"}


def _top(module: str) -> str:
    """The first part below `mailkeeper.`: the unit the layers are made of."""
    return module.split(".")[1] if module.startswith("mailkeeper.") else ""


def _layer(unit: str) -> int:
    for i, layer in enumerate(LAYERS):
        if unit in layer:
            return i
    raise AssertionError(f"mailkeeper/{unit} is in no layer: add it to LAYERS in {__file__}")


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out.append((".".join(parts), path))
    return out


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.append((name, node.lineno))
            if name == "mailkeeper":  # from mailkeeper import config (modules, not names)
                found += [
                    (f"mailkeeper.{a.name}", node.lineno)
                    for a in node.names
                    if (PACKAGE / f"{a.name}.py").exists() or (PACKAGE / a.name).is_dir()
                ]
    return [(n, line) for n, line in found if n.startswith("mailkeeper.")]


def test_every_module_is_in_a_layer() -> None:
    for module, _ in _modules():
        if module != "mailkeeper":
            _layer(_top(module))


def test_no_module_imports_one_above_it() -> None:
    wrong = []
    for module, path in _modules():
        if module == "mailkeeper":
            continue
        mine = _layer(_top(module))
        for name, line in _imports(module, path):
            theirs = _layer(_top(name))
            if theirs < mine:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports {name}")
    assert wrong == [], "imports that point up the layers:\n" + "\n".join(wrong)


def test_the_mailbox_adapters_do_not_import_each_other_or_parse() -> None:
    wrong = []
    for module, path in _modules():
        if not module.startswith("mailkeeper.mailbox."):
            continue
        for name, line in _imports(module, path):
            adapter = name.startswith("mailkeeper.mailbox.") and name.split(".")[2] in (
                "imap",
                "maildir",
            )
            if name == "mailkeeper.parse.message" or (adapter and name != module):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports {name}")
    assert wrong == []


def test_only_the_store_speaks_sql() -> None:
    wrong = []
    for module, path in _modules():
        if _top(module) == SQL_HOME:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_CALLS
            ):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert wrong == [], "SQL outside mailkeeper/store/:\n" + "\n".join(wrong)


@pytest.mark.parametrize("bad", ["from mailkeeper.app import App", "import mailkeeper.sync"])
def test_the_layer_check_catches_an_upward_import(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "link.py"
    path.write_text(bad + "\n")
    [(name, _)] = _imports("mailkeeper.link", path)
    assert _layer(_top(name)) < _layer("link")


def _graph(unit_of: Callable[[str], str]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in _modules():
        if module == "mailkeeper":
            continue
        mine = unit_of(module)
        for name, _ in _imports(module, path):
            theirs = unit_of(name)
            if theirs and theirs != mine:
                graph.setdefault(mine, set()).add(theirs)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one member (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _known_module(name: str) -> str:
    """The module a dotted import names (`mailkeeper.store.mail.loose_key` is no module)."""
    parts = name.split(".")
    while parts:
        dotted = ".".join(parts)
        base = PACKAGE.parent.joinpath(*parts)
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return dotted
        parts.pop()
    return ""


def test_no_import_cycle_between_modules() -> None:
    """Function-level imports count too: a lazy import still ties two modules together."""
    graph = _graph(lambda name: _known_module(name) if name.startswith("mailkeeper.") else "")
    # A package's __init__ re-exporting its own modules is not a cycle of meaning.
    for module, targets in graph.items():
        graph[module] = {t for t in targets if not module.startswith(t + ".")}
    assert _cycles(graph) == []


def test_no_import_cycle_between_rooms() -> None:
    assert _cycles(_graph(_top)) == []


def test_the_cycle_check_finds_a_loop() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_hall_stays_small() -> None:
    hall = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(hall) <= HALL_LIMIT, f"{len(hall)} modules directly in mailkeeper/: {hall}"
