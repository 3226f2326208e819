"""The front door: podium.Library / Avatar / Speech, the typed manifest, readable results."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest

import podium
from podium.avatars.manifest import AvatarManifest
from podium.common.errors import AvatarDamaged, ScriptError, UserInputError
from podium.common.media import probe
from podium.samples import PORTRAIT
from podium.speech import FAST_VOICE


@pytest.fixture(scope="module")
def library(photo_avatar, session_home):
    return podium.Library(session_home)


def test_render_through_the_front_door(library, tmp_path):
    avatar = library.avatar("portrait")
    speech = podium.Speech.from_script("Hello from the front door. [pause 0.3s] Goodbye.")
    result = avatar.render(speech, tmp_path / "hello.mp4", podium.RenderOptions(voice=FAST_VOICE))
    info = probe(result.video)
    assert info.video_codec == "h264" and info.has_audio
    assert abs(info.duration - result.duration) < 0.2 and result.duration > 1.5
    assert result.srt.read_text("utf-8").count("-->") >= 1
    assert [w.text for w in result.utterance.words][:2] == ["Hello", "from"]


def test_results_have_readable_reprs(library, tmp_path):
    avatar = library.avatar("portrait")
    utterance = avatar.speak(podium.Speech.from_script("Short and sweet."),
                             podium.RenderOptions(voice=FAST_VOICE))
    for thing in (library, avatar, avatar.manifest, avatar.record, utterance,
                  podium.Speech.from_script("A line. " * 20)):
        text = repr(thing)
        assert "array(" not in text and "\n" not in text and len(text) < 400, text
    assert "Short and sweet" in repr(utterance) and "portrait" in repr(avatar)


def test_requests_are_checked_before_any_work(library, tmp_path):
    avatar = library.avatar("portrait")
    with pytest.raises(ScriptError, match="empty"):
        podium.Speech.from_script("   ")
    with pytest.raises(ScriptError, match="line 1"):
        podium.Speech.from_script("Hi [pause forever] there")
    with pytest.raises(UserInputError, match="not found"):
        podium.Speech.from_recording(tmp_path / "nothing.wav")
    speech = podium.Speech.from_script("Fine.")
    with pytest.raises(UserInputError, match="unknown voice"):
        avatar.render(speech, tmp_path / "a.mp4", podium.RenderOptions(voice="klingon-xx"))
    with pytest.raises(UserInputError, match="out of range"):
        avatar.render(speech, tmp_path / "a.mp4", podium.RenderOptions(size=(10_000, 10)))
    with pytest.raises(UserInputError, match=".mp4"):
        avatar.render(speech, tmp_path / "a.avi")
    with pytest.raises(UserInputError, match="music"):
        avatar.render(speech, tmp_path / "a.mp4", podium.RenderOptions(music=tmp_path / "no.mp3"))
    with pytest.raises(UserInputError, match="consent"):
        library.create_avatar("nobody", photo=PORTRAIT, consent=" ")
    assert list(tmp_path.iterdir()) == []


def test_manifest_round_trips_and_keeps_unknown_keys(library):
    m = library.avatar("portrait").manifest
    d = m.to_dict()
    assert AvatarManifest.from_dict(d) == m
    again = AvatarManifest.from_dict({**d, "added_by_a_newer_podium": {"x": 1}})
    assert again.to_dict()["added_by_a_newer_podium"] == {"x": 1}


@pytest.mark.parametrize("change, says", [
    (lambda d: {**d, "fps": 100000}, "frame rate"),
    (lambda d: {**d, "frame_size": [0, 10]}, "frame size"),
    (lambda d: {**d, "parts": {**d["parts"], "mouth_bank": "../other/parts/mouth_bank.npz"}}, "outside"),
    (lambda d: {**d, "parts": {**d["parts"], "base_loop": "/etc/passwd"}}, "outside"),
    (lambda d: {k: v for k, v in d.items() if k != "consent"}, "consent"),
    (lambda d: {**d, "format_version": 99}, "format"),
])
def test_damaged_manifests_are_refused(library, tmp_path, change, says):
    src = library.avatar("portrait").path
    lib = podium.Library(tmp_path)
    (lib.store.root / "broken").mkdir(parents=True)
    d = json.loads((src / "avatar.json").read_text("utf-8"))
    (lib.store.root / "broken" / "avatar.json").write_text(json.dumps({**change(d), "name": "broken"}))
    with pytest.raises(AvatarDamaged, match=says):
        lib.avatar("broken")


def test_concurrent_manifest_updates_all_land(library, tmp_path):
    import shutil

    lib = podium.Library(tmp_path)
    lib.store.root.mkdir(parents=True)
    shutil.copytree(library.avatar("portrait").path, lib.store.root / "portrait")

    def add(k):
        lib.store.update_manifest("portrait", lambda m: replace(m, extra={**m.extra, f"k{k}": k}))

    threads = [threading.Thread(target=add, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    extra = lib.avatar("portrait").manifest.extra
    assert {f"k{k}" for k in range(8)} <= set(extra)


def test_speech_defaults_and_lexicon_through_the_library(library, tmp_path):
    import shutil

    lib = podium.Library(tmp_path)
    lib.store.root.mkdir(parents=True)
    shutil.copytree(library.avatar("portrait").path, lib.store.root / "portrait")
    avatar = lib.avatar("portrait")
    stored = avatar.set_speech_defaults(voice="de", rate_wpm=150)
    assert (stored.voice, stored.rate_wpm) == ("de", 150)
    assert lib.avatar("portrait").manifest.speech_defaults == stored
    assert lib.add_word("Nguyen", "ŋwiən") == "ŋwiən"
    assert lib.lexicon().entries == {"nguyen": "ŋwiən"}
    assert (tmp_path / "lexicon.json").is_file()
