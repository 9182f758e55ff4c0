"""The house reads as the pipeline: every module on a floor (README "Code map"), nothing imports a
module on a higher floor, no import cycle, no module over 450 lines, Gradio only in the UI."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import REPO

PACKAGE = REPO / "assistant"
MAX_LINES = 450
FLOORS = {  # bottom to top, as in the README's code map
    1: {"records", "errors", "config", "lexical", "progress", "builddb", "vocabulary"},
    2: {"cleaning", "chunking", "embedding", "dedupe", "quotes", "timeframe", "mentions", "constraints", "spans",
        "question", "prompts", "quantities"},
    3: {"sources", "store"},
    4: {"distributed", "indexing", "pruning", "retrieval"},
    5: {"answerability", "generation", "composer"},
    6: {"answering"},
    7: {"chat"},
    8: {"questionsets", "evaluation", "eval_report", "terminal", "cli", "ui", "llamaindex"},
}
FLOOR = {name: floor for floor, names in FLOORS.items() for name in names}


def modules() -> dict[str, Path]:
    """Dotted module name inside ``assistant`` → file (packages by their ``__init__``)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name:
            out[name] = path
    return out


def imports(name: str, path: Path) -> set[str]:
    """Modules of the package that ``name`` imports anywhere in its file (lazy imports too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".") if package else []
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            candidates = [target] if node.module else [f"{target}.{a.name}".strip(".") for a in node.names]
            found.update(c for c in candidates if c)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("assistant."):
            found.add(node.module.removeprefix("assistant."))
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def test_every_module_is_on_a_floor_and_short() -> None:
    for name, path in modules().items():
        assert top(name) in FLOOR, f"{name} is on no floor of the code map"
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines"


def test_nothing_imports_a_higher_floor() -> None:
    known = modules()
    for name, path in known.items():
        for target in imports(name, path):
            if top(target) not in FLOOR or top(target) == top(name):
                continue
            assert FLOOR[top(target)] <= FLOOR[top(name)], f"{name} (floor {FLOOR[top(name)]}) imports {target}"


def test_no_import_cycle() -> None:
    known = modules()
    graph = {name: {t for t in imports(name, path) if t in known and t != name} for name, path in known.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " → ".join([*trail[trail.index(nxt):], nxt]))
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])


def test_gradio_only_in_the_ui() -> None:
    for name, path in modules().items():
        if top(name) != "ui":
            assert "gradio" not in path.read_text(encoding="utf-8"), f"{name} mentions gradio"
