"""Shared fixtures: paths to real test data, footage the tests render themselves, a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PODIUM_SHARED", ROOT.parent / "shared"))
FOOTAGE_DIR = SHARED / "footage"
SPEECH_DIR = SHARED / "speech"
PORTRAIT = ROOT / "samples" / "portrait.jpg"


def shared_clips() -> list[Path]:
    return sorted(FOOTAGE_DIR.glob("*.mp4")) if FOOTAGE_DIR.is_dir() else []


needs_shared = pytest.mark.skipif(
    not shared_clips(),
    reason=f"real footage not found in {FOOTAGE_DIR} (clone with ../shared beside the project, "
           "or set PODIUM_SHARED)")


def run_cli(*args: str, home: Path, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``podium`` as a user would, in a child process."""
    env = {**os.environ, "PODIUM_HOME": str(home)}
    env.pop("PODIUM_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "podium.ui.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd or ROOT, timeout=timeout)


def tree_snapshot(path: Path) -> list[tuple[str, int]]:
    """Every file under ``path`` with its size: compare before/after to prove nothing changed."""
    if not path.exists():
        return []
    return sorted((str(p.relative_to(path)), p.stat().st_size) for p in path.rglob("*"))


def write_video(path: Path, frames, fps: float = 25.0) -> Path:
    from podium.common.media import VideoWriter

    frames = list(frames)
    h, w = frames[0].shape[:2]
    with VideoWriter(path, size=(w, h), fps=fps, crf=18) as writer:
        for f in frames:
            writer.write(f)
    return path


def load_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="session")
def portrait() -> np.ndarray:
    return load_rgb(PORTRAIT)


@pytest.fixture(scope="session")
def session_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("podium-home")


@pytest.fixture(scope="session")
def photo_avatar(session_home):
    """The sample portrait as an avatar (built once per session)."""
    from podium.avatars import AvatarLibrary, create_from_photo

    lib = AvatarLibrary(session_home)
    if not lib.exists("portrait"):
        create_from_photo(lib, "portrait", PORTRAIT, consent="Eileen Collins")
    return lib.get("portrait")


@pytest.fixture(scope="session")
def rendered_footage(photo_avatar, tmp_path_factory) -> Path:
    """A 6 s talking-head clip rendered from the sample portrait: footage that needs no ../shared."""
    from podium.lipsync import render_script

    out = tmp_path_factory.mktemp("footage") / "portrait_talking.mp4"
    render_script(photo_avatar, "Hello there. This clip was rendered by the test suite itself, "
                  "so the footage path works anywhere. Open wide, then rest.", out)
    return out
