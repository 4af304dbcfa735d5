"""The documentation keeps up with the code: a page per hook, every CLI command in the README,
every built-in component name in the plugin guide, and no page or link left dangling."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qenc_bench import hookspecs
from qenc_bench.cli import main
from qenc_bench.plugins import DISABLE_ENV, KINDS, Registry, get_plugin_manager

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
HOOKS = sorted(name for name in vars(hookspecs) if name.startswith("qenc_bench_"))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def hook_page(hook: str) -> Path:
    """``qenc_bench_register_datasets`` is documented in ``docs/hooks/datasets.md``."""
    kind = hook.removeprefix("qenc_bench_").removeprefix("register_")
    return DOCS / "hooks" / f"{kind}.md"


def test_hookspecs_are_found():
    assert HOOKS, "no qenc_bench_* hook in qenc_bench.hookspecs"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_page_that_names_it(hook):
    page = hook_page(hook)
    assert page.is_file(), f"hook {hook} has no page: write {page.relative_to(ROOT)}"
    assert hook in page.read_text(encoding="utf-8"), f"{page.relative_to(ROOT)} does not mention {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_page_shows_the_hooks_signature(hook):
    """The page's first code block is the hook's real signature: its name, parameters and the
    spec type its ``register`` takes, as ``hookspecs`` declares them."""
    import inspect

    page = hook_page(hook).read_text(encoding="utf-8")
    parameters = inspect.signature(getattr(hookspecs, hook)).parameters
    annotation = getattr(hookspecs, hook).__annotations__["register"]
    spec_type = annotation.split("[[")[1].split("]")[0]
    expected = f"def {hook}({', '.join(f'{name}: {p.annotation}' for name, p in parameters.items())}) -> None"
    assert expected in page, f"{hook_page(hook).relative_to(ROOT)} does not show {expected!r}"
    assert spec_type in page


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_cli_command_is_in_the_readme(command):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"qenc-bench\s+{re.escape(command)}\b", readme), (
        f"README.md does not mention 'qenc-bench {command}'"
    )


def test_every_builtin_component_name_is_reserved_in_the_plugin_guide(monkeypatch):
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    registry = Registry.from_plugin_manager(get_plugin_manager())
    guide = (DOCS / "plugins.md").read_text(encoding="utf-8")
    reserved = guide[guide.index("## Reserved names"):]
    missing = [
        f"{kind} {entry.spec.name}"
        for kind in KINDS
        for entry in registry.entries(kind)
        if entry.distribution == "qenc-bench" and f"`{entry.spec.name}`" not in reserved
    ]
    assert not missing, f"docs/plugins.md 'Reserved names' lacks: {', '.join(missing)}"


def test_every_page_is_linked_from_the_index():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    linked = {(DOCS / target).resolve() for target in LINK.findall(index)}
    pages = {p.resolve() for p in DOCS.rglob("*.md")} - {(DOCS / "index.md").resolve()}
    assert not sorted(str(p.relative_to(DOCS.resolve())) for p in pages - linked)


@pytest.mark.parametrize("page", sorted(DOCS.rglob("*.md")), ids=lambda p: str(p.relative_to(DOCS.resolve())))
def test_relative_links_resolve(page):
    broken = [
        target
        for target in LINK.findall(page.read_text(encoding="utf-8"))
        if "://" not in target and not (page.parent / target).exists()
    ]
    assert not broken, f"{page.relative_to(ROOT)}: broken links {broken}"
