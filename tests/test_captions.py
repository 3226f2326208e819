"""Tests for ``lipsync.captions`` on real synthesised speech."""

from __future__ import annotations

import re

import pytest

from podium.common.errors import UserInputError
from podium.lipsync.captions import Cue, make_cues, write_srt, write_vtt
from podium.speech import FAST_VOICE, Utterance, synthesize

LONG = (
    "Welcome to Podium. This is a deliberately long sentence that goes on and on, with commas, "
    "clauses, and “quoted words” so that it cannot possibly fit into two lines of forty-two "
    "characters each, which forces the captions to split it at word boundaries using the word "
    "timings. Short one!\n\nA new paragraph [pause 1s] continues here & ends."
)


@pytest.fixture(scope="module")
def utt() -> Utterance:
    return synthesize(LONG, voice=FAST_VOICE)


@pytest.fixture(scope="module")
def cues(utt) -> list[Cue]:
    return make_cues(utt)


def _ts(text: str) -> float:
    m = re.fullmatch(r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d)", text)
    assert m, text
    h, mi, s, ms = map(int, m.groups())
    return h * 3600 + mi * 60 + s + ms / 1000


def parse_srt(text: str) -> list[Cue]:
    out = []
    for n, block in enumerate(text.strip("\n").split("\n\n"), start=1):
        lines = block.split("\n")
        assert lines[0] == str(n)
        m = re.fullmatch(r"(\S+,\d\d\d) --> (\S+,\d\d\d)", lines[1])
        assert m, lines[1]
        out.append(Cue(_ts(m.group(1)), _ts(m.group(2)), tuple(lines[2:])))
    return out


def parse_vtt(text: str) -> list[Cue]:
    header, *blocks = text.strip("\n").split("\n\n")
    assert header == "WEBVTT"
    out = []
    for block in blocks:
        lines = block.split("\n")
        m = re.fullmatch(r"(\S+\.\d\d\d) --> (\S+\.\d\d\d)", lines[0])
        assert m, lines[0]
        out.append(Cue(_ts(m.group(1)), _ts(m.group(2)), tuple(lines[1:])))
    return out


def test_line_limits(cues):
    assert len(cues) >= 6
    for cue in cues:
        assert 1 <= len(cue.lines) <= 2, cue
        assert all(0 < len(line) <= 42 for line in cue.lines), cue


def test_times_monotonic_inside_audio(utt, cues):
    prev_end = 0.0
    for cue in cues:
        assert prev_end <= cue.start < cue.end <= utt.duration + 1e-9, cue
        prev_end = cue.end


def test_text_is_the_sentences_in_order(utt, cues):
    # Cutting and wrapping loses no word and no punctuation.
    assert " ".join(" ".join(c.lines) for c in cues) == " ".join(s.text for s in utt.sentences)


def test_long_sentence_split_by_word_timings(utt, cues):
    long_sentence = next(s for s in utt.sentences if s.text.startswith("This is"))
    inside = [c for c in cues if long_sentence.start - 1e-9 <= c.start and c.end <= long_sentence.end + 1e-9]
    assert len(inside) >= 3
    assert inside[0].start == pytest.approx(long_sentence.start)
    assert inside[-1].end == pytest.approx(long_sentence.end)
    word_times = {w.start for w in utt.words} | {w.end for w in utt.words}
    for a, b in zip(inside, inside[1:]):
        # Each cut falls where a word ends and the next one starts.
        assert a.end in word_times and b.start in word_times
        assert a.end <= b.start


def test_short_sentence_is_one_cue(utt, cues):
    first = utt.sentences[0]
    assert cues[0] == Cue(first.start, first.end, ("Welcome to Podium.",))


def test_balanced_cues_no_lone_word(cues):
    # The long sentence is evened out rather than leaving one word at the end.
    assert all(sum(len(line) for line in c.lines) >= 10 for c in cues)


def test_narrow_limits_and_cjk():
    u = synthesize("你好，世界。这是一个很长的句子，我们需要把它分成几个部分，以便在屏幕上显示字幕。", voice="cmn")
    cues = make_cues(u, max_chars=16, max_lines=2)
    assert len(cues) >= 3
    for c in cues:
        # CJK characters are two columns wide: at most 8 per 16-column line.
        assert all(len(line) <= 8 for line in c.lines), c
    assert "".join("".join(c.lines) for c in cues) == "".join(s.text for s in u.sentences)


def test_srt_round_trip(cues, tmp_path):
    path = tmp_path / "out.srt"
    path.write_text("old contents")
    write_srt(cues, path)
    text = path.read_text(encoding="utf-8")
    assert "," in text.split("\n")[1] and "." not in text.split("\n")[1]
    back = parse_srt(text)
    assert [c.lines for c in back] == [c.lines for c in cues]
    for a, b in zip(back, cues):
        assert a.start == pytest.approx(b.start, abs=0.0006)
        assert a.end == pytest.approx(b.end, abs=0.0006)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.srt"]  # temp file renamed away


def test_vtt_round_trip(cues, tmp_path):
    path = tmp_path / "out.vtt"
    write_vtt(cues, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("WEBVTT\n\n")
    back = parse_vtt(text)
    # "&" is markup in WebVTT, so it is escaped in the file.
    assert [tuple(line.replace("&amp;", "&") for line in c.lines) for c in back] == [c.lines for c in cues]
    assert any("&amp;" in line for c in back for line in c.lines)
    for a, b in zip(back, cues):
        assert a.start == pytest.approx(b.start, abs=0.0006)
        assert a.end == pytest.approx(b.end, abs=0.0006)


def test_bad_limits(utt):
    with pytest.raises(UserInputError, match="max_chars=0"):
        make_cues(utt, max_chars=0)


def test_missing_folder(cues, tmp_path):
    with pytest.raises(UserInputError, match="does not exist"):
        write_srt(cues, tmp_path / "nope" / "out.srt")


# --- languages: right-to-left and CJK ------------------------------------------------------

from podium.lipsync.captions import NO_LINE_START, RLM  # noqa: E402

LANGUAGE_SENTENCES = {
    "de": "Willkommen zum Kurs. Heute lernen wir am 3. Mai drei neue Dinge über das Wetter.",
    "ar": "مرحبا بكم في الدورة. اليوم نتعلم 3 أشياء جديدة عن الطقس في الجبال.",
    "he": "שלום לכולם. היום נלמד 3 דברים חדשים על מזג האוויר בהרים.",
    "ja": "こんにちは、皆さん。今日は山の天気について、三つの新しいことを学びます。",
}


@pytest.mark.parametrize("voice", sorted(LANGUAGE_SENTENCES))
def test_word_timed_captions_in_four_languages(voice):
    text = LANGUAGE_SENTENCES[voice]
    u = synthesize(text, voice=voice)
    cues = make_cues(u, max_chars=20, max_lines=2)
    rtl = voice in ("ar", "he")
    assert len(u.sentences) == 2  # "3. Mai" is a date, not a sentence end
    assert len(cues) >= 3  # long sentences are cut by their words' timings
    for a, b in zip(cues, cues[1:]):
        assert a.start < a.end <= b.start + 1e-6
    for c in cues:
        for line in c.lines:
            # Right-to-left lines carry a right-to-left mark, so "3" or a Latin word at
            # the start of a line does not turn the line around; others carry none.
            assert line.startswith(RLM) == rtl, (voice, line)
            shown = line.lstrip(RLM)
            assert shown and shown[0] not in NO_LINE_START, (voice, line)
            cols = sum(2 if ord(ch) > 0x2E80 else 1 for ch in shown)
            assert cols <= 20, (voice, line)
    shown = "".join("".join(line.lstrip(RLM) for line in c.lines) for c in cues)
    assert shown.replace(" ", "") == "".join(s.text for s in u.sentences).replace(" ", "")
    # Cue times come from the words: the cue holding the sentence's last word ends at it.
    assert abs(cues[-1].end - u.sentences[-1].end) < 1e-6


def test_japanese_lines_never_start_with_a_closing_mark():
    u = synthesize("今日は、とても、いい、天気、ですね。明日も、晴れると、いいですね。", voice="ja")
    for width in range(6, 16):
        for c in make_cues(u, max_chars=width, max_lines=2):
            assert all(line[0] not in NO_LINE_START for line in c.lines), (width, c.lines)
