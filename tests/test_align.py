"""speech.align_recording on real recordings and on espeak-ng speech whose timings are known."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import FOOTAGE_DIR, needs_shared

from podium import speech
from podium.common.errors import UserInputError
from podium.speech.align import ARPABET_TO_IPA, frame_db, quiet_runs

SPEECH_DIR = (Path(os.environ["PODIUM_SHARED"]) / "speech" if os.environ.get("PODIUM_SHARED")
              else Path(__file__).resolve().parent.parent.parent / "shared" / "speech")
SPEECH_FILES = sorted(SPEECH_DIR.glob("*.wav")) if SPEECH_DIR.is_dir() else []
needs_speech = pytest.mark.skipif(
    not SPEECH_FILES,
    reason=f"real speech not found in {SPEECH_DIR} (clone with ../shared beside the project, "
           "or set PODIUM_SHARED)")
IPA = set(ARPABET_TO_IPA.values())

SCRIPT = ("Good morning everyone. Today we will talk about the weather in the mountains. "
          "[pause 1s] It was cold, but the sky stayed clear all afternoon.")
LONG_SCRIPT = (
    "The museum opens at nine in the morning and closes at six in the evening. "
    "Visitors can walk through the old halls, look at paintings from many countries, and rest "
    "in the garden. On the first floor there is a large collection of maps, ships and "
    "instruments that sailors used long ago. [pause 1s] The second floor shows clothes, tools "
    "and furniture from ordinary homes. Children like the room with the giant model of a steam "
    "train, because they can press the buttons and hear the whistle. There is a small cafe near "
    "the entrance where you can buy coffee, tea, sandwiches and cake. Many people come back "
    "every year, since the exhibitions change each season and there is always something new to "
    "see. Guided tours start every hour from the main desk, and they are free for students and "
    "teachers. If you want to take photographs, please turn off the flash, because strong light "
    "can damage the colours of old paintings. The shop sells books, posters and postcards, and "
    "every purchase helps the museum pay for its work. We hope you enjoy your visit and tell "
    "your friends about it.")


def plain(script: str) -> str:
    return " ".join(re.sub(r"\[pause [^\]]*\]", " ", script).split())


def check_phones(utt) -> None:
    """IPA symbols, sorted, non-overlapping, inside the audio."""
    assert utt.sample_rate == 16000 and utt.audio.dtype == np.float32
    prev = 0.0
    for p in utt.phonemes:
        assert p.symbol in IPA, p
        assert prev - 1e-9 <= p.start < p.end <= utt.duration + 0.02, p
        prev = p.end


def check_words(utt) -> None:
    prev = 0.0
    for w in utt.words:
        assert prev - 1e-9 <= w.start <= w.end <= utt.duration + 0.02, w
        prev = w.end


def phone_mask(utt, n: int) -> np.ndarray:
    mask = np.zeros(n, bool)
    for p in utt.phonemes:
        mask[int(round(p.start * 100)):int(round(p.end * 100))] = True
    return mask


def quiet_mask(audio: np.ndarray, n: int) -> np.ndarray:
    """Pauses: at least 0.25 s more than 30 dB under the loud level, 30 ms trimmed off each end.

    Looser than the module's own 35 dB rule, so the decoder must find most of these itself.
    """
    mask = np.zeros(n, bool)
    for s, e in quiet_runs(audio, below_db=30.0, min_s=0.25):
        mask[int(round(s * 100)) + 3:int(round(e * 100)) - 3] = True
    return mask


def recognize(path: Path) -> str:
    """pocketsphinx's own en-us recognition: a transcript that is self-consistent with it."""
    from pocketsphinx import Decoder

    from podium.common.media import read_audio

    pcm = (np.clip(read_audio(path), -1, 1) * 32767).astype("<i2").tobytes()
    decoder = Decoder(dither=True, loglevel="FATAL")
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    return decoder.hyp().hypstr


def timing_errors(tts, aligned) -> np.ndarray:
    """|start difference| of each word espeak gave a duration to."""
    assert [w.text for w in aligned.words] == [w.text for w in tts.words]
    return np.array([abs(a.start - b.start) for a, b in zip(tts.words, aligned.words)
                     if a.end > a.start])


# --- forced alignment of espeak-ng speech (its word timings are known) --------------------


@pytest.fixture(scope="module")
def tts_case(tmp_path_factory):
    tts = speech.synthesize(SCRIPT, voice=speech.FAST_VOICE)
    path = tmp_path_factory.mktemp("align") / "tts.wav"
    tts.write_wav(path)
    return tts, path, speech.align_recording(path, transcript=plain(SCRIPT))


def test_tts_words_match_espeak_timings(tts_case):
    tts, _, utt = tts_case
    check_phones(utt)
    check_words(utt)
    err = timing_errors(tts, utt)
    assert np.median(err) < 0.05, err
    assert err.max() < 0.15, err
    assert [s.text for s in utt.sentences] == [
        "Good morning everyone.", "Today we will talk about the weather in the mountains.",
        "It was cold, but the sky stayed clear all afternoon."]
    for s, t in zip(utt.sentences, tts.sentences):
        assert abs(s.start - t.start) < 0.15 and abs(s.end - t.end) < 0.15


def test_tts_pauses_have_no_phones(tts_case):
    tts, _, utt = tts_case
    # the 1 s [pause], the sentence pause and the comma pause espeak left
    pauses = [(a.end, b.start) for a, b in zip(tts.phonemes, tts.phonemes[1:])
              if b.start - a.end >= 0.15]
    assert len(pauses) >= 2 and any(b - a >= 0.95 for a, b in pauses)
    for a, b in pauses:
        inside = [p for p in utt.phonemes if p.end > a + 0.05 and p.start < b - 0.05]
        assert not inside, (a, b, inside)


def test_unknown_words_do_not_crash(tts_case):
    tts, path, _ = tts_case
    text = plain(SCRIPT).replace("weather", "Wxqzt").replace("afternoon", "Bzzrkl")
    utt = speech.align_recording(path, transcript=text)
    check_phones(utt)
    check_words(utt)
    words = {w.text: w for w in utt.words}
    assert [w.text for w in utt.words] == text.replace(",", "").replace(".", "").split()
    for name, real in (("Wxqzt", "weather"), ("Bzzrkl", "afternoon")):
        got, want = words[name], next(w for w in tts.words if w.text == real)
        assert got.end > got.start and abs(got.start - want.start) < 0.2, (got, want)
        # the phone loop filled the unknown word's stretch
        assert any(p.start < got.end and p.end > got.start for p in utt.phonemes)


def test_long_recording_is_chunked_and_fast(tmp_path):
    tts = speech.synthesize(LONG_SCRIPT, voice=speech.FAST_VOICE)
    assert tts.duration > 60
    path = tmp_path / "long.wav"
    tts.write_wav(path)
    t0 = time.perf_counter()
    utt = speech.align_recording(path, transcript=plain(LONG_SCRIPT))
    seconds_per_second = (time.perf_counter() - t0) / utt.duration
    check_phones(utt)
    check_words(utt)
    err = timing_errors(tts, utt)
    assert np.median(err) < 0.05 and np.percentile(err, 95) < 0.15, err
    assert seconds_per_second < 0.3


# --- real English, aligned with pocketsphinx's own recognition ---------------------------


@needs_speech
@pytest.mark.parametrize("name", ["en_imagine.wav", "en_radio_2.wav"])
def test_real_english_forced_alignment(name):
    path = SPEECH_DIR / name
    text = recognize(path)
    utt = speech.align_recording(path, transcript=text)
    check_phones(utt)
    check_words(utt)
    assert [w.text for w in utt.words] == text.split()
    assert all(w.end > w.start for w in utt.words)
    db = frame_db(utt.audio)
    phones = phone_mask(utt, len(db))
    quiet = quiet_mask(utt.audio, len(db))
    speechy = db > np.percentile(db, 95) - 35
    assert quiet.any()
    assert phones[quiet].mean() < 0.05  # pauses are gaps
    assert speechy[phones].mean() > 0.9  # phones lie in speech


# --- phone loop, any language ------------------------------------------------------------


@needs_speech
@pytest.mark.parametrize("path", SPEECH_FILES, ids=lambda p: p.stem)
def test_phone_loop_on_real_speech(path):
    t0 = time.perf_counter()
    utt = speech.align_recording(path)
    seconds_per_second = (time.perf_counter() - t0) / utt.duration
    check_phones(utt)
    assert utt.words == ()
    assert utt.sentences and all(s.start < s.end for s in utt.sentences)
    assert 4 < len(utt.phonemes) / utt.duration < 20  # syllable-rate phones
    db = frame_db(utt.audio)
    phones = phone_mask(utt, len(db))
    loud = db > np.percentile(db, 95) - 12
    assert phones[loud].mean() > 0.85
    quiet = quiet_mask(utt.audio, len(db))
    if quiet.sum() >= 20:
        assert phones[quiet].mean() < 0.15
    assert seconds_per_second < 0.3


@needs_speech
def test_video_and_compressed_audio(tmp_path):
    from podium.common.media import run_ffmpeg

    m4a = tmp_path / "fr.m4a"
    run_ffmpeg(["-i", str(SPEECH_DIR / "fr_speech.wav"), "-c:a", "aac", str(m4a)])
    utt = speech.align_recording(m4a)
    check_phones(utt)
    assert abs(utt.duration - 6.72) < 0.1 and len(utt.phonemes) > 20


def test_other_language_transcript_gives_words(tts_case):
    _, path, _ = tts_case
    utt = speech.align_recording(path, transcript="Guten Morgen. Wie geht es?", language="de")
    check_phones(utt)
    check_words(utt)
    assert [w.text for w in utt.words] == ["Guten", "Morgen", "Wie", "geht", "es"]
    assert [s.text for s in utt.sentences] == ["Guten Morgen.", "Wie geht es?"]


# --- errors ------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        speech.align_recording(tmp_path / "nope.wav")


def test_file_without_audio(tmp_path):
    from podium.common.media import VideoWriter

    text = tmp_path / "notes.txt"
    text.write_text("hello, not audio\n")
    with pytest.raises(UserInputError, match="no audio"):
        speech.align_recording(text)
    video = tmp_path / "silent.mp4"
    with VideoWriter(video, size=(64, 64), fps=10) as writer:
        for i in range(10):
            writer.write(np.full((64, 64, 3), 20 * i, np.uint8))
    with pytest.raises(UserInputError, match="no audio"):
        speech.align_recording(video)


@pytest.mark.parametrize("transcript", ["", "   ", "... !"])
def test_empty_transcript(tts_case, transcript):
    with pytest.raises(UserInputError, match="transcript is empty"):
        speech.align_recording(tts_case[1], transcript=transcript)


def test_bad_language(tts_case):
    with pytest.raises(UserInputError, match="language"):
        speech.align_recording(tts_case[1], language="english please")


# --- English without a transcript: recognised words, force-aligned ------------------------


@needs_shared
def test_english_recognition_times_real_lips_better_than_phone_loop():
    """On real presenters, the mouth openness the phones predict follows the lip gap
    tracked in the video more closely when English words are recognised and aligned."""
    from podium.avatars.landmarks import LOWER_INNER_LIP, UPPER_INNER_LIP, inter_ocular
    from podium.avatars.tracking import track
    from podium.common.media import probe, read_frames
    from podium.lipsync.coarticulation import mouth_track

    r_loop, r_recognised = [], []
    for clip in sorted(FOOTAGE_DIR.glob("presenter_*.mp4")):
        fps = probe(clip).fps
        p = track(read_frames(clip, fps=fps)).points
        gap = (p[:, LOWER_INNER_LIP, 1] - p[:, UPPER_INNER_LIP, 1]) / inter_ocular(p)
        for lang, out in ((None, r_loop), ("en-us", r_recognised)):
            utt = speech.align_recording(clip, language=lang)
            assert utt.words == ()  # guessed words never become captions
            check_phones(utt)
            opening = mouth_track(utt.phonemes, utt.duration, fps=fps).openness
            n = min(len(opening), len(gap))
            out.append(np.corrcoef(opening[:n], gap[:n])[0, 1])
    assert len(r_loop) >= 3
    assert np.mean(r_recognised) > np.mean(r_loop) + 0.05, (r_loop, r_recognised)
    assert np.mean(r_recognised) > 0.3
