"""The avatar library on disk: names, atomic creation, deletion, damaged avatars."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import run_cli, tree_snapshot

from podium.avatars import AvatarLibrary, check_name
from podium.avatars.library import write_manifest
from podium.avatars.manifest import REQUIRED_PARTS, AvatarManifest, Consent, Loop, Source
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
