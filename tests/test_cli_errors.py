"""Every user error: one line saying what to do, exit code 2, nothing half-written."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import PORTRAIT, run_cli, tree_snapshot, write_video


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, portrait):
    d = tmp_path_factory.mktemp("bad")
    h, w = 360, 480
    yy, xx = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(1)
    noface = [np.dstack([(xx + 3 * i) % 256, yy % 256, np.full_like(xx, 128)]).astype(np.uint8)
              for i in range(100)]
    two = np.hstack([portrait, portrait[:, ::-1]])
    two = two[:, : two.shape[1] - two.shape[1] % 2]
    files = {
        "noface": write_video(d / "noface.mp4", noface),
        "twoface": write_video(d / "twoface.mp4", [two] * 100),
        "short": write_video(d / "short.mp4", [portrait] * 25),
        "dark": write_video(d / "dark.mp4", [(portrait * 0.08).astype(np.uint8)] * 100),
        "tiny": write_video(d / "tiny.mp4", [rng.integers(0, 255, (120, 160, 3), np.uint8)] * 100),
    }
    fake = d / "notavideo.mp4"
    fake.write_text("this is not a video\n")
    files["fake"] = fake
    files["text"] = d / "script.docx"
    files["text"].write_bytes(b"PK\x03\x04 not text \xff\xfe")
    return files


@pytest.fixture()
def home(tmp_path, photo_avatar):
    """A library holding one valid avatar, so 'unchanged' is a real check."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(photo_avatar.path.parent.parent, home)
    return home


def _expect_user_error(home, *args, says: str, outputs=()):
    before = tree_snapshot(home)
    proc = run_cli(*args, home=home)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    # Progress notes ("tracking face...") may precede it; the error itself is one line.
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("podium")]
    assert len(lines) == 1 and proc.stderr.rstrip().endswith(lines[0]), proc.stderr
    assert "Traceback" not in proc.stderr
    assert says.lower() in lines[0].lower(), lines[0]
    assert tree_snapshot(home) == before, "the library changed"
    for out in outputs:
        assert not out.exists(), f"{out} was written"
    leftovers = [p for p in home.rglob("*") if ".staging" in p.name or ".tmp" in p.name]
    assert not leftovers
    return lines[0]


@pytest.mark.parametrize("case, says", [
    ("noface", "no face in frames"),
    ("twoface", "more than one face"),
    ("short", "at least 3 s"),
    ("dark", "too dark"),
    ("tiny", "resolution"),
    ("fake", "not a video"),
])
def test_bad_footage(case, says, bad_inputs, home):
    _expect_user_error(home, "avatar", "create", "newone", "--footage", str(bad_inputs[case]),
                       "--consent", "Some One", says=says)


def test_missing_footage(home, tmp_path):
    _expect_user_error(home, "avatar", "create", "newone", "--footage", str(tmp_path / "nope.mp4"),
                       "--consent", "Some One", says="not found")


def test_consent_required(home):
    _expect_user_error(home, "avatar", "create", "newone", "--photo", str(PORTRAIT), says="consent")


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "x" * 65, "name with space"])
def test_bad_avatar_names(name, home):
    _expect_user_error(home, "avatar", "create", name, "--photo", str(PORTRAIT),
                       "--consent", "Some One", says="invalid avatar name")


@pytest.mark.parametrize("extra, says", [
    (("--train-minutes", "2"), "is for the neural renderer"),
    (("--renderer", "neural", "--train-minutes", "0"), "out of range"),
    (("--renderer", "neural", "--train-minutes", "500"), "out of range"),
])
def test_bad_training_time(extra, says, home):
    _expect_user_error(home, "avatar", "create", "newone", "--photo", str(PORTRAIT),
                       "--consent", "Some One", *extra, says=says)


def test_duplicate_name(home):
    _expect_user_error(home, "avatar", "create", "portrait", "--photo", str(PORTRAIT),
                       "--consent", "Some One", says="already exists")


def test_bad_photos(home, bad_inputs, tmp_path):
    _expect_user_error(home, "avatar", "create", "p", "--photo", str(bad_inputs["fake"]),
                       "--consent", "A", says="not a supported photo")
    import cv2

    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((400, 400, 3), 200, np.uint8))
    _expect_user_error(home, "avatar", "create", "p", "--photo", str(blank), "--consent", "A",
                       says="no face found")


def test_unknown_avatar(home, tmp_path):
    out = tmp_path / "o.mp4"
    _expect_user_error(home, "say", "--avatar", "ghost", "--text", "Hi.", "--out", str(out),
                       says="unknown avatar", outputs=[out])
    _expect_user_error(home, "avatar", "show", "ghost", says="unknown avatar")
    _expect_user_error(home, "avatar", "delete", "ghost", says="unknown avatar")


@pytest.mark.parametrize("args, says", [
    (["--voice", "xx-nope", "--text", "Hello."], "unknown voice"),
    (["--text", "   "], "empty"),
    (["--text", "Hello [pause abc] there."], "line 1, column"),
])
def test_bad_say(args, says, home, tmp_path):
    out = tmp_path / "o.mp4"
    _expect_user_error(home, "say", "--avatar", "portrait", *args, "--out", str(out), says=says,
                       outputs=[out, out.with_suffix(".srt"), out.with_suffix(".vtt")])
    assert list(tmp_path.glob("*.mp4")) == [] and list(tmp_path.glob(".*")) == []


def test_bad_script_and_output(home, tmp_path, bad_inputs):
    out = tmp_path / "o.mp4"
    _expect_user_error(home, "say", "--avatar", "portrait", "--script", str(tmp_path / "none.txt"),
                       "--out", str(out), says="not found", outputs=[out])
    _expect_user_error(home, "say", "--avatar", "portrait", "--script", str(bad_inputs["text"]),
                       "--out", str(out), says="UTF-8", outputs=[out])
    _expect_user_error(home, "say", "--avatar", "portrait", "--text", "Hi.", "--out",
                       str(tmp_path / "o.avi"), says=".mp4")
    _expect_user_error(home, "say", "--avatar", "portrait", "--text", "Hi.", "--out",
                       str(tmp_path / "missing" / "o.mp4"), says="does not exist")


def test_unknown_language(home):
    _expect_user_error(home, "voices", "--language", "zz", says="no voice")


def test_argparse_errors_are_one_line(home):
    _expect_user_error(home, "say", "--text", "hi", says="required")


def test_cli_happy_path(home, tmp_path):
    """list / show / say / delete through the real command line."""
    import json

    proc = run_cli("avatar", "list", home=home)
    assert proc.returncode == 0 and "portrait" in proc.stdout
    proc = run_cli("avatar", "show", "portrait", home=home)
    assert proc.returncode == 0 and json.loads(proc.stdout)["consent"]["name"] == "Eileen Collins"
    out = tmp_path / "hello.mp4"
    proc = run_cli("say", "--avatar", "portrait", "--text", "Hello from the command line.",
                   "--size", "640x360", "--out", str(out), home=home)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and out.with_suffix(".srt").is_file() and out.with_suffix(".vtt").is_file()
    from podium.common.media import probe

    info = probe(out)
    assert (info.width, info.height) == (640, 360)
    proc = run_cli("voices", "--language", "de", home=home)
    assert proc.returncode == 0 and proc.stdout.strip()
    assert all(" de" in line or line.startswith("de") for line in proc.stdout.splitlines())
    proc = run_cli("avatar", "delete", "portrait", home=home)
    assert proc.returncode == 0
    assert not (home / "avatars" / "portrait").exists()


def test_bad_dub_and_audio_options(home, tmp_path, bad_inputs):
    out = tmp_path / "d.mp4"
    _expect_user_error(home, "dub", "--avatar", "portrait", "--video", str(tmp_path / "none.mp4"),
                       "--text", "Hi.", "--out", str(out), says="not found", outputs=[out])
    _expect_user_error(home, "dub", "--avatar", "portrait", "--video", str(bad_inputs["noface"]),
                       "--text", "Hi.", "--out", str(out), says="no single face", outputs=[out])
    _expect_user_error(home, "say", "--avatar", "portrait", "--text", "Hi.", "--transcript", "Hi",
                       "--out", str(out), says="--transcript and --language go with --audio", outputs=[out])
    _expect_user_error(home, "say", "--avatar", "portrait", "--out", str(out),
                       says="give the speech", outputs=[out])
    _expect_user_error(home, "say", "--avatar", "portrait", "--renderer", "neural", "--text", "Hi.",
                       "--out", str(out), says="no trained neural renderer", outputs=[out])


def test_a_killed_render_leaves_nothing_the_next_render_keeps(photo_avatar, session_home, tmp_path):
    """SIGKILL cannot be cleaned up after; the next render into the folder removes the dead
    process's temporary files (and never another running render's)."""
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

    out = tmp_path / "killed.mp4"
    env = {**os.environ, "PODIUM_HOME": str(session_home), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "podium.ui.cli", "say", "--avatar", photo_avatar.name,
                             "--voice", "en-us", "--text", " ".join(["Bob ate a big apple."] * 30),
                             "--out", str(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(300):
        if list(tmp_path.glob(".podium-*")):
            break
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = list(tmp_path.glob(".podium-*"))
    assert left and not out.exists()
    mine = tmp_path / f".podium-tmp-{os.getpid()}-busy1234.mp4"  # a live process's file stays
    mine.write_bytes(b"x")
    again = run_cli("say", "--avatar", photo_avatar.name, "--voice", "en-us", "--text", "Hi.",
                    "--out", str(tmp_path / "next.mp4"), home=session_home)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp_path.glob(".podium-*")) == [mine.name]
