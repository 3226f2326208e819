"""The avatar library on disk: names, atomic creation, deletion, damaged avatars."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest
from conftest import run_cli, tree_snapshot

from podium.avatars import AvatarLibrary, check_name
from podium.avatars.library import write_manifest
from podium.avatars.manifest import REQUIRED_PARTS, AvatarManifest, Consent, Loop, Source, SpeechDefaults
from podium.common.errors import AvatarError, FootageError, InternalError
from podium.common.media import VideoWriter


@pytest.mark.parametrize("name", ["ok", "Anna-2", "team_lead", "a" * 64])
def test_good_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "../x", "x/..", "/abs", ".dot", "-dash", "a b", "é", "a" * 65])
def test_bad_names(name):
    with pytest.raises(AvatarError):
        check_name(name)


def test_failed_creation_leaves_no_trace(tmp_path):
    lib = AvatarLibrary(tmp_path)
    with pytest.raises(FootageError):
        with lib.staging("half") as folder:
            (folder / "parts" / "junk.npz").write_bytes(b"123")
            raise FootageError("simulated failure after writing parts")
    assert lib.names() == []
    assert [p.name for p in lib.root.iterdir()] == []


def test_staged_avatar_appears_whole(tmp_path):
    lib = AvatarLibrary(tmp_path)
    with lib.staging("whole") as folder:
        assert not (lib.root / "whole").exists()  # invisible until finished
        write_manifest(folder, AvatarManifest(
            name="whole", kind="photo", created_at="2026-01-01T00:00:00+00:00",
            consent=Consent("Ann Example", "Ann Example consented.", "2026-01-01T00:00:00+00:00",
                            "ann.jpg", "0" * 64),
            source=Source("ann.jpg", 64, 64), fps=25.0, frame_size=(64, 64), loop=Loop(1, "cycle"),
            parts={k: f"parts/{k}" for k in REQUIRED_PARTS}))
    assert lib.names() == ["whole"]
    lib.delete("whole")
    assert lib.names() == [] and list(lib.root.iterdir()) == []


def test_home_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PODIUM_HOME", str(tmp_path / "h"))
    assert AvatarLibrary().root == tmp_path / "h" / "avatars"


def test_video_writer_abort_leaves_nothing(tmp_path):
    out = tmp_path / "x.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(out, size=(64, 48), fps=25) as w:
            w.write(np.zeros((48, 64, 3), np.uint8))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InternalError):
        VideoWriter(out, size=(63, 48), fps=25)
    assert list(tmp_path.iterdir()) == []


def test_damaged_avatar_is_an_internal_error_without_partial_output(photo_avatar, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(photo_avatar.path.parent.parent, home)
    bank = home / "avatars" / photo_avatar.name / "parts" / "mouth_bank.npz"
    bank.write_bytes(bank.read_bytes()[:1000])
    out = tmp_path / "out" / "v.mp4"
    out.parent.mkdir()
    before = tree_snapshot(home)
    proc = run_cli("say", "--avatar", photo_avatar.name, "--text", "Hello.", "--out", str(out), home=home)
    assert proc.returncode == 1, proc.stderr
    assert "damaged" in proc.stderr and "Traceback" not in proc.stderr
    assert list(out.parent.iterdir()) == []
    assert tree_snapshot(home) == before


def _copy_library(photo_avatar, tmp_path, names):
    home = tmp_path / "home"
    for name in names:
        shutil.copytree(photo_avatar.path, home / "avatars" / name)
        manifest = home / "avatars" / name / "avatar.json"
        manifest.write_text(manifest.read_text("utf-8").replace(
            f'"name": "{photo_avatar.name}"', f'"name": "{name}"', 1), "utf-8")
    return home


def test_a_damaged_base_loop_is_one_line_and_exit_1(photo_avatar, tmp_path):
    home = _copy_library(photo_avatar, tmp_path, ["loop"])
    loop = home / "avatars" / "loop" / "parts" / "base_loop.mp4"
    loop.write_bytes(loop.read_bytes()[:3000])
    proc = run_cli("say", "--avatar", "loop", "--voice", "en-us", "--text", "Hello.", "--out",
                   str(tmp_path / "v.mp4"), home=home)
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("podium")]  # after progress notes
    assert len(lines) == 1 and proc.stderr.rstrip().endswith(lines[0]), proc.stderr
    assert "damaged" in lines[0] and "re-create" in lines[0] and "ffmpeg version" not in lines[0]


def test_a_corrupt_manifest_is_listed_as_damaged_and_can_be_deleted(photo_avatar, tmp_path):
    home = _copy_library(photo_avatar, tmp_path, ["aaa-broken", "zed"])
    (home / "avatars" / "aaa-broken" / "avatar.json").write_text("{ not json", "utf-8")
    listed = run_cli("avatar", "list", home=home)
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert rows[0].startswith("aaa-broken") and "DAMAGED" in rows[0]
    assert rows[1].startswith("zed") and "photo" in rows[1]
    gone = run_cli("avatar", "delete", "aaa-broken", home=home)
    assert gone.returncode == 0, gone.stderr
    assert [p.name for p in (home / "avatars").iterdir() if not p.name.startswith(".")] == ["zed"]


def test_two_avatar_set_at_once_both_land(photo_avatar, tmp_path):
    import subprocess
    import sys

    home = _copy_library(photo_avatar, tmp_path, ["both"])
    code = ("import sys, podium; a = podium.Library(sys.argv[1]).avatar('both'); "
            "a.set_speech_defaults(**({'voice': 'de'} if sys.argv[2] == 'voice' else {'rate_wpm': 150}))")
    for round_ in range(4):
        AvatarLibrary(home).update_manifest("both", lambda m: replace(m, speech_defaults=SpeechDefaults()))
        procs = [subprocess.Popen([sys.executable, "-c", code, str(home), what]) for what in ("voice", "rate")]
        assert [p.wait(timeout=120) for p in procs] == [0, 0]
        stored = AvatarLibrary(home).get("both").manifest.speech_defaults
        assert (stored.voice, stored.rate_wpm) == ("de", 150), round_


def test_the_studio_shows_and_deletes_a_damaged_avatar(photo_avatar, tmp_path):
    from podium.ui.studio.handlers import Studio

    home = _copy_library(photo_avatar, tmp_path, ["broken"])
    (home / "avatars" / "broken" / "avatar.json").write_text('{"format_version": 1}', "utf-8")
    studio = Studio(home)
    assert studio.avatar_names() == ["broken"]
    assert "damaged" in studio.avatar_details("broken")
    assert "Deleted" in studio.delete_avatar("broken")
    assert studio.avatar_names() == []
