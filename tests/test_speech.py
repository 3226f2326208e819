"""Tests for ``speech``: real espeak-ng synthesis, no mocks."""

from __future__ import annotations

import re
import threading
import time

import numpy as np
import pytest
import soundfile

from podium.common.errors import ScriptError, UserInputError, VoiceError
from podium.speech import (
    FAST_VOICE,
    PauseSegment,
    TextSegment,
    Utterance,
    ipa_phonemes,
    list_voices,
    parse_script,
    resolve_voice,
    synthesize,
)
from podium.speech.script import PARAGRAPH_PAUSE_S, SENTENCE_PAUSE_S

SCRIPT = (
    "The quick brown fox jumps over the lazy dog. It's well-known, isn't it?\n"
    "\n"
    "Hello there [pause 1.5s] general Kenobi."
)
SCRIPT_WORDS = [
    "The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog",
    "It's", "well-known", "isn't", "it",
    "Hello", "there", "general", "Kenobi",
]


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def span(u: Utterance, start: float, end: float) -> np.ndarray:
    return u.audio[int(round(start * u.sample_rate)) : int(round(end * u.sample_rate))]


@pytest.fixture(scope="module")
def utt() -> Utterance:
    return synthesize(SCRIPT, voice=FAST_VOICE)


def assert_sorted_disjoint(items, duration: float, *, strict: bool) -> None:
    prev_end = 0.0
    for it in items:
        assert it.start >= prev_end - 1e-9, it
        assert (it.end > it.start) if strict else (it.end >= it.start), it
        assert it.end <= duration + 1e-9, it
        prev_end = it.end


# --- utterance shape and timings ------------------------------------------------


def test_audio_format(utt):
    assert utt.audio.dtype == np.float32 and utt.audio.ndim == 1
    assert utt.sample_rate == 22050
    assert utt.duration == pytest.approx(len(utt.audio) / 22050)
    assert np.abs(utt.audio).max() <= 1.0
    assert not utt.audio.flags.writeable


def test_timings_sorted_and_inside_audio(utt):
    assert len(utt.phonemes) > 40
    assert_sorted_disjoint(utt.phonemes, utt.duration, strict=True)
    assert_sorted_disjoint(utt.words, utt.duration, strict=False)
    assert_sorted_disjoint(utt.sentences, utt.duration, strict=True)
    # Each segment is trimmed to its phones, so speech starts and ends the audio.
    assert utt.phonemes[0].start == 0.0
    assert utt.phonemes[-1].end == pytest.approx(utt.duration)


def test_words_in_script_order(utt):
    assert [w.text for w in utt.words] == SCRIPT_WORDS
    assert all(w.end > w.start for w in utt.words)
    # Every phone lies inside some word.
    for p in utt.phonemes:
        assert any(w.start - 1e-9 <= p.start and p.end <= w.end + 1e-9 for w in utt.words), p


def test_sentences(utt):
    assert [s.text for s in utt.sentences] == [
        "The quick brown fox jumps over the lazy dog.",
        "It's well-known, isn't it?",
        "Hello there general Kenobi.",
    ]
    s1, s2, s3 = utt.sentences
    assert s2.start - s1.end == pytest.approx(SENTENCE_PAUSE_S, abs=1e-3)
    assert s3.start - s2.end == pytest.approx(PARAGRAPH_PAUSE_S, abs=1e-3)


def test_pause_markup_is_exact_silence(utt):
    there = next(w for w in utt.words if w.text == "there")
    general = next(w for w in utt.words if w.text == "general")
    gap = general.start - there.end
    assert 1.45 <= gap <= 1.55
    assert not [p for p in utt.phonemes if p.end > there.end + 1e-9 and p.start < general.start - 1e-9]
    assert rms(span(utt, there.end, general.start)) < 1e-4


def test_audio_is_loud_where_phones_are_and_silent_in_gaps(utt):
    vowels = [p for p in utt.phonemes if p.symbol[0] in "aeiouæɑɒɔəɛɜɪʊʌ" and p.end - p.start > 0.04]
    assert len(vowels) > 10
    loud = [rms(span(utt, p.start, p.end)) for p in vowels]
    assert min(loud) > 0.01
    gaps = [
        (a.end, b.start) for a, b in zip(utt.phonemes, utt.phonemes[1:]) if b.start - a.end > 0.05
    ]
    assert len(gaps) >= 3  # two sentence ends, a paragraph, the [pause]
    for a, b in gaps:
        assert rms(span(utt, a, b)) < 1e-3


def test_write_wav_round_trip(utt, tmp_path):
    path = tmp_path / "out.wav"
    utt.write_wav(path)
    data, rate = soundfile.read(path, dtype="float32")
    info = soundfile.info(path)
    assert rate == 22050 and info.subtype == "PCM_16"
    assert data.shape == utt.audio.shape
    assert np.abs(data - utt.audio).max() < 1e-4
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]  # no temp file left


# --- languages ------------------------------------------------------------------

LANGS = [
    ("de", "Größere Übungen für die Straße. Schön!", ["Größere", "Übungen", "für", "die", "Straße", "Schön"], "ʃ"),
    ("fr-fr", "L'été, c'est très beau à Noël.", ["L'été", "c'est", "très", "beau", "à", "Noël"], "ʁ"),
    ("es", "¿Dónde está la biblioteca? Muy bien.", ["Dónde", "está", "la", "biblioteca", "Muy", "bien"], "β"),
    ("ja", "こんにちは、ありがとう。", None, "tɕ"),
    ("cmn", "你好，世界。我很好！", None, "χ"),
]


@pytest.mark.parametrize("voice,text,words,symbol", LANGS, ids=[v for v, *_ in LANGS])
def test_languages(voice, text, words, symbol):
    u = synthesize(text, voice=voice)
    assert len(u.phonemes) >= 5
    assert symbol in {p.symbol for p in u.phonemes}
    assert_sorted_disjoint(u.phonemes, u.duration, strict=True)
    assert_sorted_disjoint(u.words, u.duration, strict=False)
    assert rms(u.audio) > 0.01
    if words is not None:
        # Non-ASCII text: espeak's character offsets must map to the right words.
        assert [w.text for w in u.words] == words
    else:
        # No spaces: the words, joined, are the text without punctuation.
        assert "".join(w.text for w in u.words) == re.sub(r"[，。！、]", "", text)


def test_ipa_phonemes():
    assert ipa_phonemes("pie") == ["p", "aɪ"]
    assert ipa_phonemes("Schiff", voice="de") == ["ʃ", "ɪ", "f"]


def test_rate_changes_speed():
    text = "This sentence is spoken at two different speeds."
    slow, fast = synthesize(text, rate_wpm=120, voice=FAST_VOICE), synthesize(text, rate_wpm=300, voice=FAST_VOICE)
    assert fast.duration < 0.7 * slow.duration
    with pytest.raises(UserInputError, match="10"):
        synthesize(text, rate_wpm=10, voice=FAST_VOICE)


def test_synthesis_is_fast():
    para = (
        "Podium turns a written script into a talking head video. It reads the text aloud "
        "with a synthetic voice, then moves the lips of the avatar to match every sound. "
    )
    t0 = time.perf_counter()
    u = synthesize("\n\n".join([para] * 7), voice=FAST_VOICE)
    elapsed = time.perf_counter() - t0
    assert u.duration > 60
    assert elapsed < 5.0


def test_threads_share_the_engine_safely():
    texts = {i: f"Thread number {w} speaks now." for i, w in enumerate(["one", "two", "three", "four"])}
    results: dict[int, Utterance] = {}

    def work(i: int) -> None:
        for _ in range(3):
            results[i] = synthesize(texts[i], voice="en-us" if i % 2 else "de")

    threads = [threading.Thread(target=work, args=(i,)) for i in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, u in results.items():
        assert [w.text for w in u.words] == ["Thread", "number", texts[i].split()[2], "speaks", "now"]


# --- voices ---------------------------------------------------------------------


def test_list_voices():
    voices = list_voices()
    ids = [v.id for v in voices]
    assert len(ids) == len(set(ids)) > 50
    for vid in ("en-us", "en-gb", "de", "fr-fr", "es", "cmn", "ja"):
        assert vid in ids
    english = list_voices(language="en")
    assert english and all(any(c == "en" or c.startswith("en-") for c in v.languages) for v in english)
    assert "de" not in [v.id for v in english]
    assert list_voices(language="EN_us")[0].id.startswith("en-us")
    # Every listed id is accepted as it is.
    assert all(resolve_voice(v.id) == v for v in voices)


def test_resolve_voice_aliases():
    assert resolve_voice("en-US").id == "en-us"
    assert resolve_voice("German").id == "de"
    assert resolve_voice("fr").id == "fr-fr"
    assert resolve_voice("zh").id == "cmn"
    assert resolve_voice("gmw/en-US").id == "en-us"


def test_unknown_voice():
    with pytest.raises(VoiceError, match=r"unknown voice 'xx-nope'; run `podium voices`"):
        resolve_voice("xx-nope")
    with pytest.raises(VoiceError, match="xx-nope"):
        synthesize("Hello.", voice="xx-nope")


# --- script parsing -------------------------------------------------------------


def test_parse_script_pauses():
    segs = parse_script("One. Two!\n\nThree [pause 500ms] four.\n[pause 2s]\nFive.")
    assert segs == (
        TextSegment("One."),
        PauseSegment(SENTENCE_PAUSE_S),
        TextSegment("Two!"),
        PauseSegment(PARAGRAPH_PAUSE_S),
        TextSegment("Three", ends_sentence=False),
        PauseSegment(0.5),
        TextSegment("four."),
        PauseSegment(2.0),  # explicit pause replaces the sentence pause
        TextSegment("Five."),
    )


def test_parse_script_keeps_abbreviations_and_decimals():
    segs = parse_script("Dr. Smith paid 3.5 dollars, e.g. for tea. Then left.")
    assert [s.text for s in segs if isinstance(s, TextSegment)] == [
        "Dr. Smith paid 3.5 dollars, e.g. for tea.",
        "Then left.",
    ]


@pytest.mark.parametrize("text", ["", "   \n\t \n", "[pause 1s]", " ... "])
def test_empty_script(text):
    with pytest.raises(ScriptError, match="the script is empty"):
        synthesize(text)


@pytest.mark.parametrize(
    "text,where,what,hint",
    [
        ("Hello.\n  Then [pause abc] more.", "line 2, column 8", "'[pause abc]'", "[pause 1.5s]"),
        ("Wait [pause 99s] long.", "line 1, column 6", "too long", "[pause 10s] [pause 5s]"),
        ("One\ntwo\nthree [pause 2s", "line 3, column 7", "unclosed", "[pause 1.5s]"),
        ("Hi [pause]", "line 1, column 4", "'[pause]'", "[pause 500ms]"),
    ],
)
def test_bad_markup(text, where, what, hint):
    with pytest.raises(ScriptError) as err:
        synthesize(text)
    message = str(err.value)
    assert where in message and what in message
    assert hint in message  # says how to write it
