"""Piper voices: loading, options, timings and errors, on a tiny voice the tests build
(the real file format: an ONNX graph with Piper's inputs and outputs plus its JSON config)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("piper", reason="piper-tts is not installed")
pytest.importorskip("onnx", reason="onnx is needed to build the tiny test voice")

import tiny_piper as T  # noqa: E402

from podium.common.errors import UserInputError, VoiceError  # noqa: E402
from podium.speech.backend import SynthesisOptions  # noqa: E402
from podium.speech.piper import PiperBackend  # noqa: E402

SENTENCE = "Bob ate a big apple."


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    folder = tmp_path_factory.mktemp("piper")
    return {"aligned": T.build_voice(folder, name="tiny"),
            "plain": T.build_voice(folder, name="plain", durations=False)}


def _tone(segment: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(segment * np.hanning(len(segment)), 1 << 15))
    return float(np.argmax(spec) * sr / (1 << 15))


def test_timings_come_from_the_models_durations(voices):
    from piper.phoneme_ids import DEFAULT_PHONEME_ID_MAP as ids

    voice = PiperBackend(voices["aligned"])
    u = voice.synthesize_sentence(SENTENCE)
    assert u.sample_rate == T.SAMPLE_RATE and voice.language == "en-us"
    per_id = T.frames_per_id(1.0) * T.HOP
    # The audio is trimmed to the first and last phone; every phone spans whole ids.
    assert abs(u.phonemes[0].start) < 1e-9 and abs(u.phonemes[-1].end - u.duration) < 1e-6
    checked = 0
    for p in u.phonemes:
        n = (p.end - p.start) * u.sample_rate
        assert abs(n / per_id - round(n / per_id)) < 1e-3 and round(n / per_id) >= 2, p
        if len(p.symbol) == 1 and round(n / per_id) == 2:
            # Its first id is the phoneme itself, then Piper's pad (id 0): the tone tells.
            a = int(round(p.start * u.sample_rate))
            got = _tone(u.audio[a:a + per_id], u.sample_rate)
            assert abs(got - T.frequency(ids[p.symbol][0])) < 5, (p, got)
            checked += 1
    assert checked >= 5
    assert [w.text for w in u.words] == ["Bob", "ate", "a", "big", "apple"]
    assert all(a.end <= b.start for a, b in zip(u.words, u.words[1:]))
    for w in u.words:  # words cover their phones
        inside = [p for p in u.phonemes if w.start - 1e-6 <= p.start < w.end]
        assert inside, w


def test_rate_and_volume_options(voices):
    voice = PiperBackend(voices["aligned"])
    normal = voice.synthesize_sentence(SENTENCE)
    fast = voice.synthesize_sentence(SENTENCE, SynthesisOptions(rate=2.0))
    assert abs(fast.duration - normal.duration / 2) < 0.02
    quiet = voice.synthesize_sentence(SENTENCE, SynthesisOptions(volume=0.5))
    assert abs(np.abs(quiet.audio).max() - 0.5 * np.abs(normal.audio).max()) < 0.02
    with pytest.raises(UserInputError):
        voice.synthesize_sentence(SENTENCE, SynthesisOptions(pitch=1.5))


def test_model_without_durations_is_timed_from_espeak(voices):
    u = PiperBackend(voices["plain"]).synthesize_sentence(SENTENCE)
    assert len(u.phonemes) >= 10 and u.phonemes[0].start == 0.0
    assert all(a.end <= b.start + 1e-9 for a, b in zip(u.phonemes, u.phonemes[1:]))
    assert u.phonemes[-1].end <= u.duration + 1e-6
    assert [w.text for w in u.words] == ["Bob", "ate", "a", "big", "apple"]


def test_errors(voices, tmp_path):
    model = tmp_path / "v.onnx"
    model.write_bytes(voices["aligned"].read_bytes())
    with pytest.raises(VoiceError, match="has no config"):
        PiperBackend(model)
    config = json.loads((voices["aligned"].parent / "tiny.onnx.json").read_text("utf-8"))
    for rate in (0, 96000, "22050"):
        config["audio"]["sample_rate"] = rate
        (tmp_path / "v.onnx.json").write_text(json.dumps(config), "utf-8")
        with pytest.raises(VoiceError, match="sample rate"):
            PiperBackend(model)
    config["audio"]["sample_rate"] = 22050
    del config["phoneme_id_map"]
    (tmp_path / "v.onnx.json").write_text(json.dumps(config), "utf-8")
    with pytest.raises(VoiceError, match="not a Piper voice config"):
        PiperBackend(model)
    (tmp_path / "v.onnx.json").write_text((voices["aligned"].parent / "tiny.onnx.json").read_text("utf-8"))
    model.write_bytes(b"\x08\x07not really onnx" * 40)
    with pytest.raises(VoiceError, match="not a Piper voice model"):
        PiperBackend(model)


def test_voice_ids_and_the_voices_folder(voices, tmp_path, monkeypatch):
    import shutil

    from podium import speech
    from podium.speech.piper import voices_folder

    u = speech.synthesize("Hello there. [pause 0.5s] Bob ate.", voice=f"piper:{voices['aligned']}")
    assert u.sample_rate == T.SAMPLE_RATE and [s.text for s in u.sentences] == ["Hello there.", "Bob ate."]
    gap = u.sentences[1].start - u.sentences[0].end
    assert abs(gap - 0.5) < 0.01  # the script's pause, exactly
    monkeypatch.setenv("PODIUM_HOME", str(tmp_path))
    folder = voices_folder()
    folder.mkdir(parents=True)
    for suffix in (".onnx", ".onnx.json"):
        shutil.copy(str(voices["aligned"]) + suffix[5:], folder / f"mine{suffix}")
    assert "piper:mine" in [v.id for v in speech.list_voices(language="en-us")]
    assert speech.resolve_voice("piper:mine").identifier == str(folder / "mine.onnx")
    with pytest.raises(VoiceError, match="not found"):
        speech.resolve_voice("piper:nobody")


def test_cli_renders_with_a_piper_voice(voices, photo_avatar, session_home, tmp_path):
    from conftest import run_cli

    from podium.common.media import probe

    out = tmp_path / "p.mp4"
    proc = run_cli("say", "--avatar", photo_avatar.name, "--voice", f"piper:{voices['aligned']}",
                   "--text", "Bob ate a big apple.", "--size", "256x256", "--out", str(out), home=session_home)
    assert proc.returncode == 0, proc.stderr
    assert probe(out).has_audio
    bad = run_cli("say", "--avatar", photo_avatar.name, "--voice", f"piper:{tmp_path}/none.onnx",
                  "--text", "Hi.", "--out", str(tmp_path / "q.mp4"), home=session_home)
    assert bad.returncode == 2 and "Piper voice not found" in bad.stderr


def test_home_option_finds_the_voices_dropped_into_that_library(voices, tmp_path):
    import shutil

    from conftest import run_cli

    other = tmp_path / "other-library"
    (other / "voices").mkdir(parents=True)
    for suffix in (".onnx", ".onnx.json"):
        shutil.copy(str(voices["aligned"]) + suffix[5:], other / "voices" / f"mine{suffix}")
    # run_cli points PODIUM_HOME at a library without the voice; --home must win.
    listed = run_cli("voices", "--language", "en-us", "--home", str(other), home=tmp_path / "default")
    assert listed.returncode == 0, listed.stderr
    assert "piper:mine" in listed.stdout
    assert "piper:mine" not in run_cli("voices", "--language", "en-us", home=tmp_path / "default").stdout


def test_a_home_given_explicitly_finds_its_dropped_in_voices(voices, tmp_path, monkeypatch):
    import shutil

    from podium import speech
    from podium.speech.piper import find_model, voices_folder

    library = tmp_path / "library"
    folder = voices_folder(library)
    folder.mkdir(parents=True)
    for suffix in (".onnx", ".onnx.json"):
        shutil.copy(str(voices["aligned"]) + suffix[5:], folder / f"mine{suffix}")
    # PODIUM_HOME names another library: only the home passed in may find the voice.
    monkeypatch.setenv("PODIUM_HOME", str(tmp_path / "elsewhere"))
    assert "piper:mine" in [v.id for v in speech.list_voices(language="en-us", home=library)]
    assert "piper:mine" not in [v.id for v in speech.list_voices()]
    info = speech.resolve_voice("piper:mine", home=library)
    assert info.id == "piper:mine" and info.identifier == str(folder / "mine.onnx")
    # The same file given by its path is the dropped-in voice of that home, not of another.
    assert speech.resolve_voice(f"piper:{folder / 'mine.onnx'}", home=library).id == "piper:mine"
    assert speech.resolve_voice(f"piper:{folder / 'mine.onnx'}").id == f"piper:{folder / 'mine.onnx'}"
    assert find_model("piper:mine", home=library) == folder / "mine.onnx"
    with pytest.raises(VoiceError, match="not found"):
        speech.resolve_voice("piper:mine")
    assert speech.backend_for("piper:mine", home=library).sample_rate == T.SAMPLE_RATE
    u = speech.synthesize("Bob ate a big apple.", voice="piper:mine", home=library)
    assert u.sample_rate == T.SAMPLE_RATE and [w.text for w in u.words] == ["Bob", "ate", "a", "big", "apple"]
    assert speech.ipa_phonemes("Bob ate.", voice="piper:mine", home=library)
