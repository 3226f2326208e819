"""Import direction of DESIGN.md (ui -> facade -> lipsync -> speech, avatars -> common), no
import cycles between modules, only ui imports gradio, and no pickle anywhere."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Package name inside ``podium`` -> its folder in the repository.
FOLDERS = {"common": "common", "avatars": "avatars", "lipsync": "lipsync", "speech": "speech",
           "provenance": "provenance", "ui": "ui", "facade": "podium", "samples": "samples"}
ALLOWED = {
    "common": set(),
    "samples": set(),
    "speech": {"common"},
    "avatars": {"common"},
    "provenance": {"common"},
    "lipsync": {"common", "speech", "avatars", "provenance"},
    "facade": {"common", "speech", "avatars", "lipsync", "provenance", "samples"},
    "ui": set(FOLDERS),
}


def _sources():
    """(package, module name, path) of every source file of ours."""
    for pkg, folder in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            prefix = ["podium"] if pkg == "facade" else ["podium", pkg]
            yield pkg, ".".join(prefix + parts), path


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "podium":
        return None
    if len(parts) > 1 and parts[1] in FOLDERS and parts[1] != "facade":
        return parts[1]
    return "facade"


def _imported_modules(path: Path, own: str) -> set[str]:
    """Every ``podium...`` module a file imports, at the top or inside a function."""
    tree = ast.parse(path.read_text("utf-8"))
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = own.split(".")[: len(own.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            out.add(base)
            # ``from podium import speech`` imports the module podium.speech.
            out |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in out if m == "podium" or m.startswith("podium.")}


def _plain_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_import_direction():
    bad = []
    for pkg, module, path in _sources():
        for target in _imported_modules(path, module):
            other = _package_of(target)
            if other is None or other == pkg:
                continue
            if target == "podium" and pkg != "facade":
                continue  # the package root itself (its lazy attributes) is allowed to all
            if other not in ALLOWED[pkg]:
                bad.append(f"{path.relative_to(ROOT)} ({pkg}) imports {target}")
        if pkg != "ui" and "gradio" in _plain_imports(path):
            bad.append(f"{path.relative_to(ROOT)} imports gradio")
    assert not bad, bad


def test_no_generic_top_level_imports():
    """Every import of our code goes through ``podium.``: a user's own ``common/`` or a
    PyPI ``lipsync`` package can never be picked up instead."""
    generic = set(FOLDERS) - {"facade"}
    bad = [f"{path.relative_to(ROOT)} imports {name}"
           for folder in (*FOLDERS.values(), "tests", "benchmarks")
           for path in (ROOT / folder).rglob("*.py")
           for name in _plain_imports(path) & generic]
    assert not bad, bad


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _module_graph() -> dict[str, set[str]]:
    modules = {module: path for _, module, path in _sources()}
    graph = {}
    for module, path in modules.items():
        deps = set()
        for target in _imported_modules(path, module):
            # ``from podium.speech import tts`` names a module; ``from podium.speech import
            # synthesize`` a name in the package: keep whichever exists.
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in modules and target != module:
                deps.add(target)
        graph[module] = deps
    # A package's __init__ re-exports its modules; an import of the package is an import of
    # its __init__ only, which is what the edges above already say.
    return graph


def test_no_import_cycles():
    graph = _module_graph()
    # Leaf modules import their package's __init__ only by accident of naming (``from
    # podium.speech.x import y`` runs podium.speech first); edges into a package root from
    # its own modules are what re-exports are made of, so they are not counted as cycles.
    for module in graph:
        graph[module] = {d for d in graph[module] if not module.startswith(d + ".")}
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_cycle_finder_sees_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_pickle_anywhere():
    for folder in FOLDERS.values():
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text("utf-8")
            assert "allow_pickle=True" not in text and "import pickle" not in text, path
