"""The house rules of docs/architecture.md, checked on the source: data flows one way, and
functions stay short enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"

# Layer of each module (dotted name prefix -> position in the flow). A module may import from
# its own layer and from earlier ones; 0 is the shared utilities every stage may use.
LAYERS: dict[str, int] = {
    "pipeline": 0,  # the package itself (__version__)
    "pipeline.utils": 0,
    "pipeline.schema": 0,
    "pipeline.committees": 0,
    "pipeline.stages": 0,
    "pipeline.references": 0,
    "pipeline.acronyms": 0,
    "pipeline.results": 0,
    "pipeline.config": 0,
    "pipeline.contracts": 0,
    "pipeline.evidence": 0,
    "pipeline.errors": 0,
    # Parsers first: the scraper uses them to find the next pages to fetch.
    "pipeline.sources": 1,
    "pipeline.fetch": 2,
    "pipeline.enrich": 3,
    "pipeline.embed": 4,
    "pipeline.match": 5,
    "pipeline.areas": 6,
    "pipeline.rank": 7,
    "pipeline.triage": 8,
    "pipeline.export": 9,
    # Wiring: may import any stage.
    "pipeline.graph": 10,
    "pipeline.preflight": 10,
    "pipeline.run": 11,
    "pipeline.evaluate": 11,
    "pipeline.cli_sources": 12,
    "pipeline.cli_evaluate": 12,
    "pipeline.cli": 12,
    "pipeline.__main__": 12,
}

# Functions allowed past MAX_LINES, each with the reason.
MAX_LINES = 80
LONG_FUNCTIONS: dict[str, str] = {
    "pipeline.committees.split_committee": (
        "one ordered table of committee spellings: the order is the precedence, split up it "
        "would hide which pattern wins"
    ),
    "pipeline.cli.run": "Typer's option declarations, one per option; the body itself is short",
    "pipeline.cli_sources.register": (
        "Typer's pattern: the three commands are defined inside it; each command is short"
    ),
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> int:
    best = ""
    for prefix in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    if not best:
        raise AssertionError(f"{module}: not placed in LAYERS (docs/architecture.md)")
    return LAYERS[best]


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            out.extend((node.lineno, f"{node.module}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
    return [(line, m) for line, m in out if m == "pipeline" or m.startswith("pipeline.")]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_later_stage(path: Path) -> None:
    module = _module_name(path)
    own = _layer(module)
    tree = ast.parse(path.read_text("utf-8"))
    later = []
    for line, imported in _imports(tree):
        try:
            layer = _layer(imported)
        except AssertionError:  # ``from pipeline.x import name``: the module decides
            continue
        if layer > own:
            later.append(f"line {line}: {imported} (layer {layer} > {own})")
    assert not later, f"{module} imports a later stage: {later}"


def test_every_function_is_short_or_says_why() -> None:
    long = {}
    for path in _modules():
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                name = f"{_module_name(path)}.{node.name}"
                if length > MAX_LINES and name not in LONG_FUNCTIONS:
                    long[name] = length
    assert not long, f"functions over {MAX_LINES} lines (split them or say why): {long}"


def test_the_layer_table_names_only_real_modules() -> None:
    names = {_module_name(p) for p in _modules()}
    for prefix in LAYERS:
        assert any(n == prefix or n.startswith(prefix + ".") for n in names) or prefix in {
            "pipeline.errors",
            "pipeline.preflight",
        }, prefix
