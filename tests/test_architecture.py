"""Import direction of DESIGN.md: ui -> lipsync -> speech, avatars; only ui imports gradio."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"common", "avatars", "lipsync", "speech", "ui"}
ALLOWED = {
    "common": set(),
    "speech": {"common"},
    "avatars": {"common"},
    "lipsync": {"common", "speech", "avatars"},
    "ui": OURS,
}


def _imports(path: Path) -> set[str]:
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
    for pkg, allowed in ALLOWED.items():
        for path in (ROOT / pkg).rglob("*.py"):
            imported = _imports(path)
            for name in imported & OURS - {pkg} - allowed:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
            if pkg != "ui" and "gradio" in imported:
                bad.append(f"{path.relative_to(ROOT)} imports gradio")
    assert not bad, bad


def test_no_pickle_anywhere():
    for pkg in OURS:
        for path in (ROOT / pkg).rglob("*.py"):
            text = path.read_text("utf-8")
            assert "allow_pickle=True" not in text and "import pickle" not in text, path
