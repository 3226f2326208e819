"""Packaging: one import name (``podium``), a wheel that holds every subpackage and the
samples, and no generic top-level module that a user's folder or a PyPI package can shadow."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GENERIC = ("common", "avatars", "lipsync", "speech", "ui")


def test_installed_distribution_has_one_top_level_name():
    dist = metadata.distribution("podium")
    assert dist.read_text("top_level.txt").split() == ["podium"]
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts == {"podium": "podium.ui.cli:entry"}


@pytest.mark.slow
def test_wheel_contains_only_podium_with_every_part(tmp_path):
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("podium-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"podium", next(t for t in tops if t.endswith(".dist-info"))}, tops
    for needed in ("podium/__init__.py", "podium/library.py", "podium/lipsync/neural/model.py",
                   "podium/ui/studio/server.py", "podium/samples/portrait.jpg",
                   "podium/samples/demo_script.txt", "podium/speech/kokoro.py"):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)


@pytest.mark.parametrize("folder", GENERIC)
def test_a_users_folder_of_the_same_name_does_not_break_podium(tmp_path, folder):
    # A folder in the working directory comes first on sys.path (python -c, python -m).
    bad = tmp_path / folder
    bad.mkdir()
    (bad / "__init__.py").write_text("raise ImportError('the user\\'s own package was imported')\n")
    code = ("import podium.ui.cli, podium.lipsync.pipeline, podium.speech, podium.avatars, "
            "podium.common.errors; import podium; print(podium.Library)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "podium.library.Library" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "podium.ui.cli", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "usage: podium" in proc.stdout, proc.stderr[-2000:]


def test_import_podium_is_cheap():
    """``import podium`` loads no numpy, torch or gradio (the facade loads on first use)."""
    code = ("import sys, podium; heavy = [m for m in ('numpy', 'torch', 'gradio', 'cv2') "
            "if m in sys.modules]; print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_every_front_door_name_resolves():
    import podium

    assert sorted(podium.__all__) == sorted(podium._FACADE)
    for name in podium.__all__:
        assert getattr(podium, name) is not None, name
    with pytest.raises(AttributeError):
        podium.no_such_thing  # noqa: B018
