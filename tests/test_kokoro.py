"""Tests for the Kokoro-82M voices: the real model from the PyPI packages, no mocks.

Timings are checked against pocketsphinx forced alignment of the audio the
voice made, so a timing bug cannot pass by agreeing with itself.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import ROOT

from podium import speech
from podium.common.errors import UserInputError, VoiceError
from podium.speech import (
    SynthesisOptions,
    Utterance,
    ipa_phonemes,
    kokoro,
    kokoro_model,
    list_voices,
    resolve_voice,
    synthesize,
)

SENTENCE = "Welcome to the course, today we will learn how to build a small web application."
WORDS = ["Welcome", "to", "the", "course", "today", "we", "will", "learn", "how", "to", "build",
         "a", "small", "web", "application"]
SHORT = "Maybe we should meet again tomorrow."


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def span(u: Utterance, start: float, end: float) -> np.ndarray:
    return u.audio[int(round(start * u.sample_rate)): int(round(end * u.sample_rate))]


def median_f0(u: Utterance) -> float:
    """Median pitch (Hz) of the loud, periodic 40 ms frames, by autocorrelation."""
    x, sr = u.audio.astype(np.float64), u.sample_rate
    n = int(0.04 * sr)
    lo, hi = sr // 400, sr // 70
    out = []
    for i in range(0, len(x) - n, n // 2):
        s = x[i:i + n] - x[i:i + n].mean()
        if rms(s) < 0.02:
            continue
        ac = np.correlate(s, s, "full")[n - 1:]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            out.append(sr / lag)
    assert len(out) > 10, "too few voiced frames to measure pitch"
    return float(np.median(out))


@pytest.fixture(scope="module")
def utt() -> Utterance:
    return synthesize(SENTENCE, voice="kokoro:jm_kumo")


@pytest.fixture(scope="module")
def short() -> dict[str, Utterance]:
    """SHORT spoken by the blend and both its components."""
    return {v: speech.backend_for(f"kokoro:{v}").synthesize_sentence(SHORT)
            for v in ("jm_kumo", "jf_nezumi", "blend-kumo-nezumi")}


# --- one sentence -------------------------------------------------------------------------


def test_audio_is_a_plausible_sentence(utt):
    assert utt.sample_rate == 24000
    assert utt.audio.dtype == np.float32 and utt.audio.ndim == 1
    assert not utt.audio.flags.writeable
    # 15 words at an ordinary speaking rate: 2-4.5 words per second.
    assert 15 / 4.5 < utt.duration < 15 / 2.0, utt.duration
    assert 0.03 < rms(utt.audio) < 0.5
    assert 0.2 < np.abs(utt.audio).max() <= 1.0


def test_phones_are_espeaks_in_order_and_disjoint(utt):
    # The phones are espeak-ng en-us's for the same text (lipsync knows them all) ...
    assert [p.symbol for p in utt.phonemes] == ipa_phonemes(SENTENCE, voice="en-us")
    # ... sorted, non-overlapping and inside the audio.
    prev = 0.0
    for p in utt.phonemes:
        assert p.start >= prev - 1e-9 and p.end > p.start, p
        prev = p.end
    assert utt.phonemes[0].start == 0.0
    assert utt.phonemes[-1].end == pytest.approx(utt.duration)
    assert [w.text for w in utt.words] == WORDS
    for p in utt.phonemes:
        assert any(w.start - 1e-9 <= p.start and p.end <= w.end + 1e-9 for w in utt.words), p
    assert [s.text for s in utt.sentences] == [SENTENCE]


def test_loud_in_vowels_and_quiet_at_the_comma(utt):
    vowels = [p for p in utt.phonemes if p.symbol[0] in "aeiouæɑɔəɛɜɪʊʌ" and p.end - p.start > 0.04]
    assert len(vowels) > 10
    assert min(rms(span(utt, p.start, p.end)) for p in vowels) > 0.01
    course = next(w for w in utt.words if w.text == "course")
    today = next(w for w in utt.words if w.text == "today")
    # The comma is a pause: no phone in it, and the audio there is near silent.
    assert today.start - course.end > 0.1
    assert rms(span(utt, course.end + 0.02, today.start - 0.02)) < 0.01


def test_word_timings_match_forced_alignment(utt, tmp_path):
    path = tmp_path / "kokoro.wav"
    utt.write_wav(path)
    forced = speech.align_recording(path, transcript=SENTENCE)
    assert [w.text for w in forced.words] == WORDS
    starts = [abs(a.start - b.start) for a, b in zip(utt.words, forced.words)]
    ends = [abs(a.end - b.end) for a, b in zip(utt.words, forced.words)]
    assert np.mean(starts + ends) < 0.060, (starts, ends)
    assert max(starts + ends) < 0.25, (starts, ends)


# --- voices -------------------------------------------------------------------------------


def test_listed_and_resolved():
    ids = [v.id for v in list_voices(language="en-us")]
    for vid in ("kokoro:jf_gongitsune", "kokoro:jm_kumo", "kokoro:jf_nezumi", "kokoro:blend-kumo-nezumi"):
        assert vid in ids
    assert ids[0] == "en-us"  # the espeak voice still comes first
    kumo = resolve_voice("kokoro:jm_kumo")
    assert kumo.engine == "kokoro" and kumo.languages[0] == "en-us" and kumo.gender == "male"
    assert resolve_voice("Kokoro:Kumo") == kumo == resolve_voice("kokoro:jm-kumo")
    assert resolve_voice("kokoro:blend-kumo-nezumi").identifier == "0.5*jm_kumo+0.5*jf_nezumi"


def test_unknown_kokoro_voice():
    with pytest.raises(VoiceError, match=r"unknown Kokoro voice 'kokoro:nobody'.*kokoro:jm_kumo"):
        resolve_voice("kokoro:nobody")
    with pytest.raises(VoiceError, match="kokoro:jf_alpha"):
        synthesize("Hello.", voice="kokoro:jf_alpha")  # in the model, but not offered


def test_blend_is_its_own_voice_between_its_components(short):
    kumo, nezumi, blend = short["jm_kumo"], short["jf_nezumi"], short["blend-kumo-nezumi"]
    style = speech.backend_for("kokoro:blend-kumo-nezumi").style()
    model = kokoro_model.load()
    np.testing.assert_allclose(style, 0.5 * model.styles["jm_kumo"] + 0.5 * model.styles["jf_nezumi"],
                               rtol=1e-6, atol=1e-7)
    f_kumo, f_nezumi, f_blend = median_f0(kumo), median_f0(nezumi), median_f0(blend)
    # A male and a female voice; the blend speaks clearly between them.
    assert f_nezumi > 1.6 * f_kumo, (f_kumo, f_nezumi)
    assert 1.2 * f_kumo < f_blend < f_nezumi / 1.2, (f_kumo, f_blend, f_nezumi)
    for u in short.values():
        assert [w.text for w in u.words] == ["Maybe", "we", "should", "meet", "again", "tomorrow"]


# --- script markup and options ------------------------------------------------------------


def test_pause_markup_is_exact_silence():
    u = synthesize("Hello there. [pause 1s] General Kenobi!", voice="kokoro:jf_gongitsune")
    there = next(w for w in u.words if w.text == "there")
    general = next(w for w in u.words if w.text == "General")
    assert general.start - there.end == pytest.approx(1.0, abs=2e-3)
    assert not [p for p in u.phonemes if p.end > there.end + 1e-9 and p.start < general.start - 1e-9]
    assert rms(span(u, there.end, general.start)) == 0.0
    assert [s.text for s in u.sentences] == ["Hello there.", "General Kenobi!"]
    assert rms(span(u, general.start, general.end)) > 0.02


def test_rate_volume_and_pitch_options(short):
    kumo = speech.backend_for("kokoro:jm_kumo")
    normal = short["jm_kumo"]
    fast = kumo.synthesize_sentence(SHORT, SynthesisOptions(rate=1.6))
    assert fast.duration < 0.8 * normal.duration
    quiet = kumo.synthesize_sentence(SHORT, SynthesisOptions(volume=0.5))
    np.testing.assert_allclose(quiet.audio, normal.audio * 0.5, atol=1e-6)
    with pytest.raises(UserInputError, match="pitch"):
        kumo.synthesize_sentence(SHORT, SynthesisOptions(pitch=1.2))
    with pytest.raises(UserInputError, match="volume"):
        SynthesisOptions(volume=-1)
    with pytest.raises(UserInputError, match="0.5"):
        synthesize(SHORT, voice="kokoro:jm_kumo", rate_wpm=400)  # 2.3x: beyond Kokoro's 2x


def test_synthesize_text_joins_sentences_with_the_pause():
    u = speech.backend_for("kokoro:jm_kumo").synthesize_text(
        "Good morning. See you soon.", SynthesisOptions(sentence_pause_s=0.6))
    s1, s2 = u.sentences
    assert s2.start - s1.end == pytest.approx(0.6, abs=1e-3)
    assert [w.text for w in u.words] == ["Good", "morning", "See", "you", "soon"]


def test_long_input_is_cut_at_clause_then_word_boundaries():
    # Phones of 3 tokens; "w1 w2, w3 w4 w5 w6" with a limit of 16 tokens.
    items, tokens = [], []
    k = 0
    for word, sep in [(2, " "), (2, ","), (0, " "), (2, " "), (2, " "), (2, " "), (2, None)]:
        for _ in range(word):
            items.append(k)
            tokens.append((1, 2, 3))
            k += 1
        if sep is not None:
            items.append(sep)
            tokens.append((16,))
    plan = kokoro._Plan(tuple(items), tuple(tokens))
    pieces = kokoro._pieces(plan, 16)
    assert all(sum(len(tokens[j]) for j in range(a, b)) <= 16 for a, b in pieces)
    # Every phone in exactly one piece, in order; the first cut is right after the comma.
    assert [i for a, b in pieces for i in items[a:b] if isinstance(i, int)] == list(range(k))
    assert items[pieces[0][1] - 1] == ","
    assert all(items[a] != " " for a, _ in pieces)


# --- installation problems ----------------------------------------------------------------


def test_model_cache_has_the_duration_output():
    model = kokoro_model.load()
    assert kokoro_model.DURATION_TENSOR in [o.name for o in model.session.get_outputs()]
    tokens = [model.vocab[c] for c in "hˈɛlO"]
    audio, durations = model.run(tokens, model.styles["jm_kumo"], 1.0)
    assert durations.shape == (len(tokens) + 2,) and durations.min() >= 1
    assert len(audio) == kokoro_model.HOP * int(durations.sum())


def test_cache_is_built_once_and_a_damaged_one_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("PODIUM_CACHE", str(tmp_path / "cache"))
    path = kokoro_model.model_path()
    assert path.parent == tmp_path / "cache"
    good = hashlib.sha256(path.read_bytes()).hexdigest()
    stamp = path.with_name(path.name + ".sha256")
    assert stamp.read_text().strip() == good
    mtime = path.stat().st_mtime_ns
    assert kokoro_model.model_path() == path and path.stat().st_mtime_ns == mtime  # reused
    with open(path, "r+b") as f:  # flip one byte in the middle
        f.seek(path.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert kokoro_model.model_path() == path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == good
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, stamp.name])


def test_damaged_parts_give_voice_error_and_write_nothing(tmp_path):
    parts = []
    for i, data in enumerate([b"not an", b" onnx model"]):
        parts.append(tmp_path / f"part{i}.bin")
        parts[-1].write_bytes(data)
    out = tmp_path / "cache" / "model.onnx"
    with pytest.raises(VoiceError, match=r"damaged: their SHA-256 is [0-9a-f]{64}, expected 00ff.*reinstall"):
        kokoro_model.assemble(parts, "00ff" * 16, out)
    assert not out.parent.exists() or not any(out.parent.iterdir())
    right = hashlib.sha256(b"not an onnx model").hexdigest()
    with pytest.raises(VoiceError, match="not an ONNX model"):
        kokoro_model.assemble(parts, right, out)
    assert not out.exists()


def test_missing_onnxruntime_is_a_clear_error(tmp_path):
    code = textwrap.dedent("""
        import sys
        sys.modules["onnxruntime"] = None  # as if it were not installed
        from podium import speech
        from podium.common.errors import PodiumError
        assert not [v for v in speech.list_voices() if v.engine == "kokoro"]
        try:
            speech.synthesize("Hello.", voice="kokoro:jm_kumo")
        except PodiumError as exc:
            print(type(exc).__name__, "|", exc)
    """)
    env = {"PYTHONPATH": str(ROOT), "PODIUM_HOME": str(tmp_path), "PODIUM_CACHE": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    kind, message = done.stdout.strip().split(" | ", 1)
    assert kind == "VoiceError"
    assert "onnxruntime" in message and "pip install" in message
    assert kokoro.PREFIX not in "".join(p.name for p in tmp_path.iterdir())  # nothing cached


def test_the_espeak_backend_takes_the_same_options():
    en = speech.backend_for("en-us")
    assert en.sample_rate == 22050 and en.language == "en-us"
    normal = en.synthesize_sentence(SHORT)
    high = en.synthesize_sentence(SHORT, SynthesisOptions(pitch=1.6))
    assert median_f0(high) > 1.3 * median_f0(normal)
    fast = en.synthesize_sentence(SHORT, SynthesisOptions(rate=2.0))
    assert fast.duration < 0.7 * normal.duration
    quiet = en.synthesize_sentence(SHORT, SynthesisOptions(volume=0.5))
    # espeak-ng varies a few samples from call to call, so compare loudness.
    assert rms(quiet.audio) / rms(normal.audio) == pytest.approx(0.5, rel=0.05)
    with pytest.raises(UserInputError, match="words per minute"):
        en.synthesize_sentence(SHORT, SynthesisOptions(rate=3.0))
