"""The package's shape, checked: layers bottom to top, no import runs up a layer, no import circle,
the CLI is the only place that knows click. docs/development.md lists the same layers."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bipacheck"

# bottom to top; a module may import from its own layer or any layer below it
LAYERS = [
    {"version", "errors", "exits", "hashing", "csv_cells", "names", "outputs"},  # leaves
    {"findings"},  # the findings vocabulary: rules, severities, findings, face records, fingerprints
    {"imaging", "ledger", "detect", "video"},  # inputs and records (the ledger stores and verifies, no law)
    {"metadata"},  # face tags already in files (reads images through imaging's guard)
    {"sources"},  # where objects come from (finds sidecars through metadata)
    {"scanning"},  # the scan step: one object -> faces or a skip; engine, cache
    {"policy"},  # the law: packs, releases, reach, exposure
    {"report"},  # renders findings; imports nothing from policy
    {"options"},  # one contract for flags, config keys and API keywords
    {"pipelines"},  # audit, check, scan, baseline, redact
    {"api"},  # the Python API
    {"cli", "__init__"},  # the faces: the command line and the package facade
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room(module: str) -> str:
    """bipacheck.policy.scope -> policy; bipacheck -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer(module: str) -> int:
    for index, rooms in enumerate(LAYERS):
        if room(module) in rooms:
            return index
    raise AssertionError(f"{module} is in no layer: add its room to LAYERS (and to docs/development.md)")


def imports(path: Path):
    """(imported module, line, inside a function) for each import of the package's own modules."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text("utf-8"))
    inner = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in ast.walk(f)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "bipacheck" or target.startswith("bipacheck."):
                names = [f"{target}.{a.name}" for a in node.names]
                found = [n for n in names if (PACKAGE.parent / (n.replace(".", "/") + ".py")).exists()
                         or (PACKAGE.parent / n.replace(".", "/") / "__init__.py").exists()]
                for name in found or [target]:
                    yield name, node.lineno, id(node) in inner
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("bipacheck"):
                    yield alias.name, node.lineno, id(node) in inner


def graph() -> dict[str, list[tuple[str, int, bool]]]:
    return {module_name(p): list(imports(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def test_no_import_runs_up_a_layer():
    upward = [f"{src}:{line} imports {dst}" for src, edges in graph().items() for dst, line, _ in edges
              if layer(dst) > layer(src)]
    assert upward == []


def test_no_import_circles():
    edges = {src: {dst for dst, _, _ in found if dst != src} for src, found in graph().items()}
    state: dict[str, int] = {}
    circles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert circles == []


def test_few_function_level_imports_and_each_says_why():
    inner = [(src, line) for src, found in graph().items() for _, line, nested in found if nested]
    assert len(inner) <= 20
    for src, line in inner:
        path = PACKAGE.parent / (src.replace(".", "/") + ".py")
        if not path.exists():
            path = PACKAGE.parent / src.replace(".", "/") / "__init__.py"
        text = path.read_text("utf-8").splitlines()
        assert "#" in text[line - 1] or text[line - 2].strip().startswith("#"), f"{src}:{line} needs a one-line reason"


def test_only_the_cli_knows_click():
    users = sorted(module_name(p) for p in PACKAGE.rglob("*.py")
                   if room(module_name(p)) != "cli" and "import click" in p.read_text("utf-8"))
    assert users == []


def test_command_modules_import_only_the_shared_helper():
    for path in (PACKAGE / "cli").glob("*.py"):
        if path.name in ("__init__.py", "__main__.py", "common.py"):
            continue
        siblings = {dst for dst, _, _ in imports(path) if room(dst) == "cli" and dst != "bipacheck.cli.common"}
        assert siblings == set(), path.name
