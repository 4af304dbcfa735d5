"""The house rules a newcomer can rely on: no import cycle (function-local imports counted),
no core module over 450 lines, a core that imports no first-party plugin, and plugins and the
documented examples that use only the public API (``qenc_bench.__all__``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import qenc_bench

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "qenc_bench"
PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").is_file())
FIRST_PARTY = {p.name for p in PLUGINS}
MAX_LINES = 450


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules_of(package: Path) -> dict[str, Path]:
    return {module_name(p, package.parent): p for p in sorted(package.rglob("*.py"))}


def imports_of(path: Path, name: str, is_package: bool) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import, at any depth."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((target, [alias.name for alias in node.names], node.lineno))
    return out


def graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (``from pkg import sub`` is an
    edge to ``pkg.sub`` when ``sub`` is a module, else to ``pkg``)."""
    modules = modules_of(package)
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for target, names, _ in imports_of(path, name, path.name == "__init__.py"):
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
            for t in subs or [target]:
                if t in modules and t != name:
                    edges[name].add(t)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return out


@pytest.mark.parametrize("package", [CORE, *PLUGINS], ids=lambda p: p.name)
def test_no_import_cycle(package):
    found = cycles(graph(package))
    assert not found, f"import cycles in {package.name}: {found}"


def test_the_cycle_finder_finds_a_cycle(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from . import b\n")
    (package / "b.py").write_text("from .a import f\n")
    assert cycles(graph(package)) == [["pkg.a", "pkg.b"]]


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_no_core_module_is_too_long(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines; split it by concept (<= {MAX_LINES})"


def test_the_core_imports_no_first_party_plugin():
    found = [f"{path.relative_to(ROOT)}:{line} imports {target}"
             for name, path in modules_of(CORE).items()
             for target, _, line in imports_of(path, name, path.name == "__init__.py")
             if target.split(".")[0] in FIRST_PARTY]
    assert not found, "\n".join(found)


def _outside_users() -> list[Path]:
    examples = ROOT / "docs" / "examples"
    return [p for package in PLUGINS for p in package.rglob("*.py")] + \
        [p for p in examples.rglob("*.py") if "tests" not in p.parts]


@pytest.mark.parametrize("path", _outside_users(), ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_and_examples_use_only_the_public_api(path):
    """A plugin imports ``qenc_bench`` names only from the package itself, and only names in
    ``qenc_bench.__all__`` (the test suite of an example may use the testing helpers)."""
    public = set(qenc_bench.__all__)
    bad = []
    for target, names, line in imports_of(path, path.stem, False):
        if target == "qenc_bench":
            bad += [f"line {line}: {n} is not in qenc_bench.__all__" for n in names if n not in public]
        elif target.startswith("qenc_bench.") and target != "qenc_bench.testing":
            bad.append(f"line {line}: imports {target}; import from qenc_bench instead")
    assert not bad, f"{path.relative_to(ROOT)}: " + "; ".join(bad)


def test_every_public_name_exists():
    for name in qenc_bench.__all__:
        assert hasattr(qenc_bench, name), name
