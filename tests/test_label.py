"""The visible AI disclosure: the corner badge (``lipsync.label``) and the first caption cue
(``lipsync.captions.with_disclosure``), on real frames, real fonts and real synthesised speech."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from PIL import ImageFont

from podium.common.errors import InternalError, UserInputError
from podium.lipsync.captions import (
    DISCLOSURE_TEXTS,
    RLM,
    Cue,
    disclosure_text,
    make_cues,
    with_disclosure,
    write_srt,
    write_vtt,
)
from podium.lipsync.label import (
    MAX_BADGE_CHARS,
    POSITIONS,
    Badge,
    BadgeOverlay,
    check_badge,
    font_path,
    text_px,
)
from podium.speech import FAST_VOICE, synthesize

SIZES = [(1280, 720), (640, 360), (720, 1280)]


def _noise(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    w, h = size
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


# --- the badge ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("position", POSITIONS)
def test_badge_changes_only_its_corner(position, size):
    w, h = size
    frame = _noise(size)
    before = frame.copy()
    overlay = BadgeOverlay(check_badge(None, position), size)
    out = overlay.apply(frame)

    assert np.array_equal(frame, before), "apply() without inplace must not touch its input"
    x0, y0, x1, y1 = overlay.rect
    changed = np.any(out != frame, axis=2)
    ys, xs = np.nonzero(changed)
    assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1
    outside = np.ones((h, w), bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[outside], frame[outside])  # byte-identical elsewhere
    # Most of the pill's box is covered (rounded ends leave the corners alone).
    assert changed[y0:y1, x0:x1].mean() > 0.7

    # In the named corner: near those two edges, far from the other two.
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    vertical, horizontal = position.split("-")
    assert (cy < h / 4) if vertical == "top" else (cy > 3 * h / 4)
    assert (cx < w / 2) if horizontal == "left" else (cx > w / 2)
    margin_x = x0 if horizontal == "left" else w - x1
    margin_y = y0 if vertical == "top" else h - y1
    assert 4 <= margin_x <= 0.05 * min(w, h) and 4 <= margin_y <= 0.05 * min(w, h)


def test_inplace_gives_the_same_frame():
    overlay = BadgeOverlay(Badge(), (1280, 720))
    frame = _noise((1280, 720), seed=1)
    copied = overlay.apply(frame)
    same = overlay.apply(frame, inplace=True)
    assert same is frame and np.array_equal(same, copied)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


@pytest.mark.parametrize("background", [255, 128, 0])
def test_badge_text_contrasts_with_its_pill(background):
    """White text over the dark pill reads at WCAG AA (4.5:1) even on a white picture."""
    size = (640, 360)
    overlay = BadgeOverlay(Badge(), size)
    frame = np.full((360, 640, 3), background, np.uint8)
    x0, y0, x1, y1 = overlay.rect
    patch = overlay.apply(frame)[y0:y1, x0:x1]
    lum = _luminance(patch)
    text = lum >= np.quantile(lum, 0.97)  # the cores of the strokes
    assert text.sum() >= 30
    assert patch.max() >= 240  # the text is (near) white
    # The pill left of the text, at mid height: inside the rounded end, before the first glyph.
    pill = lum[(y1 - y0) // 2, round(0.3 * text_px(size))]
    assert (lum[text].mean() + 0.05) / (pill + 0.05) >= 4.5
    if background == 255:
        assert pill < 0.2  # the pill really darkens a white picture


def test_text_is_big_enough_at_360p():
    """No OCR here: measure the glyphs the badge is drawn with at the size it chose."""
    overlay = BadgeOverlay(Badge(), (640, 360))
    font = ImageFont.truetype(str(font_path()), overlay.em_px)
    x_height = font.getmask("x").getbbox()[3] - font.getmask("x").getbbox()[1]
    cap = font.getbbox("H", anchor="ls")
    assert x_height >= 8  # about 6 px is where lowercase stops being readable
    assert -cap[1] >= 12

    # And the badge itself on black: its bright text rows span the cap height and descender.
    frame = np.zeros((360, 640, 3), np.uint8)
    x0, y0, x1, y1 = overlay.rect
    patch = overlay.apply(frame)[y0:y1, x0:x1]
    rows = np.nonzero((patch.max(axis=2) > 200).any(axis=1))[0]
    assert rows.max() - rows.min() + 1 >= 14


def test_badge_grows_with_the_frame():
    small = BadgeOverlay(Badge(), (640, 360))
    big = BadgeOverlay(Badge(), (1920, 1080))
    ratio = (big.rect[3] - big.rect[1]) / (small.rect[3] - small.rect[1])
    assert 2.6 <= ratio <= 3.4
    assert big.em_px > 2.5 * small.em_px


def test_apply_is_cheap():
    overlay = BadgeOverlay(Badge(), (1280, 720))
    frame = _noise((1280, 720))
    times = []
    for _ in range(30):
        t = time.perf_counter()
        overlay.apply(frame, inplace=True)
        times.append(time.perf_counter() - t)
    assert np.median(times) < 0.005  # measured ~0.1 ms; generous for a busy machine


@pytest.mark.parametrize(
    "text",
    ["", "   ", "x" * (MAX_BADGE_CHARS + 1), "AI\x00generated", "AI\u202egenerated",
     "AI\u200bgenerated", "two\nlines", "AI生成", "AI 생성"],
)
def test_bad_badge_text_is_refused_with_the_value_quoted(text):
    with pytest.raises(UserInputError) as err:
        check_badge(text, None)
    assert repr(text.strip()) in str(err.value)


def test_cjk_badge_text_names_the_missing_characters():
    with pytest.raises(UserInputError, match=r"U\+751F.*DejaVu|DejaVu.*U\+751F"):
        check_badge("AI生成", None)


@pytest.mark.parametrize("position", ["middle", "topright", "top_left", "", 3])
def test_bad_position_lists_the_corners(position):
    with pytest.raises(UserInputError) as err:
        check_badge(None, position)
    message = str(err.value)
    assert repr(position) in message
    assert all(p in message for p in POSITIONS)


def test_good_settings_are_normalised():
    assert check_badge(None, None) == Badge("AI-generated", "top-right")
    assert check_badge("  KI-generiert ", " Bottom-Left ") == Badge("KI-generiert", "bottom-left")
    # DejaVu draws Greek and Cyrillic, and precomposes a decomposed accent.
    assert check_badge("Создано ИИ", None).text == "Создано ИИ"
    assert check_badge("Δημιουργήθηκε με ΤΝ", None).position == "top-right"
    assert check_badge("Ge\u0301ne\u0301re\u0301 par IA", None).text == "Généré par IA"
    assert check_badge("x" * MAX_BADGE_CHARS, None).text == "x" * MAX_BADGE_CHARS


def test_badge_too_wide_for_a_narrow_video_is_refused():
    assert BadgeOverlay(Badge(), (360, 640)).rect[2] <= 360  # the default fits a 9:16 360p
    with pytest.raises(UserInputError, match="shorten"):
        BadgeOverlay(Badge("W" * MAX_BADGE_CHARS), (360, 640))


def test_a_frame_of_another_size_is_an_internal_error():
    overlay = BadgeOverlay(Badge(), (640, 360))
    with pytest.raises(InternalError, match="640x360"):
        overlay.apply(np.zeros((720, 1280, 3), np.uint8))


# --- the disclosure caption --------------------------------------------------------------------

EN = DISCLOSURE_TEXTS["en"]


def test_disclosure_alone_when_speech_starts_late():
    cues = [Cue(3.0, 4.0, ("Hello.",))]
    out = with_disclosure(cues)
    assert out == [Cue(0.0, 2.5, (EN,)), cues[0]]


def test_disclosure_until_speech_when_that_is_a_second_or_more():
    cues = [Cue(1.6, 3.0, ("Hello.",)), Cue(3.2, 4.0, ("Again.",))]
    out = with_disclosure(cues)
    assert out == [Cue(0.0, 1.6, (EN,))] + cues


def test_disclosure_is_the_top_line_when_speech_starts_at_once():
    cues = [Cue(0.3, 0.9, ("Hi.",)), Cue(1.2, 2.0, ("I am here.",)), Cue(3.0, 4.0, ("Later.",))]
    out = with_disclosure(cues, seconds=2.5)
    assert out == [
        Cue(0.0, 1.2, (EN, "Hi.")),  # from 0, held over the gap: the top line never blinks
        Cue(1.2, 2.5, (EN, "I am here.")),  # held until the disclosure's time is up
        cues[2],  # untouched, on time
    ]
    # A long first cue keeps its own end.
    long = [Cue(0.2, 4.0, ("A long first sentence.",))]
    assert with_disclosure(long) == [Cue(0.0, 4.0, (EN, "A long first sentence."))]


def test_disclosure_without_speech_is_cut_at_the_video_end():
    assert with_disclosure([], duration=1.5) == [Cue(0.0, 1.5, (EN,))]
    assert with_disclosure([], seconds=4.0) == [Cue(0.0, 4.0, (EN,))]


@pytest.mark.parametrize("language", ["en", "de", "fr", "es", "it", "pt", "nl", "ja", "zh"])
def test_disclosure_text_per_language(language):
    text = disclosure_text(language)
    assert text == DISCLOSURE_TEXTS[language]
    assert (text == EN) == (language == "en")
    assert "AI" in text or "IA" in text or "KI" in text
    (cue,) = with_disclosure([], language=language)
    assert len(cue.lines) == 1  # every default fits one 42-column line, CJK counted double


def test_disclosure_language_codes_are_normalised_and_fall_back_to_english():
    assert disclosure_text("pt-BR") == DISCLOSURE_TEXTS["pt"]
    assert disclosure_text("DE_at") == DISCLOSURE_TEXTS["de"]
    assert disclosure_text("cmn") == DISCLOSURE_TEXTS["zh"]
    assert disclosure_text("zh-TW") == disclosure_text("yue") == DISCLOSURE_TEXTS["zh-hant"]
    assert disclosure_text("xx") == disclosure_text(None) == EN


def test_right_to_left_disclosure_is_marked():
    (cue,) = with_disclosure([], language="ar")
    assert all(line.startswith(RLM) for line in cue.lines)


@pytest.mark.parametrize("text", ["", "   ", "AI\x07made"])
def test_bad_disclosure_text_is_refused(text):
    with pytest.raises(UserInputError) as err:
        with_disclosure([], text=text)
    assert repr(text) in str(err.value) or repr(" ".join(text.split())) in str(err.value)


@pytest.mark.parametrize("seconds", [0, -1.0, float("nan"), float("inf")])
def test_bad_disclosure_duration_is_refused(seconds):
    with pytest.raises(UserInputError, match=re.escape(repr(seconds))):
        with_disclosure([], seconds=seconds)


def test_long_disclosure_wraps_to_two_lines_or_is_refused():
    text = "This presenter and voice were generated with AI by Podium for this demo."
    (cue,) = with_disclosure([], text=text)
    assert len(cue.lines) == 2 and " ".join(cue.lines) == text
    with pytest.raises(UserInputError, match="shorten"):
        with_disclosure([], text=text * 2)


def _blocks(text: str) -> list[tuple[float, float, list[str]]]:
    out = []
    for block in text.strip("\n").split("\n\n"):
        lines = block.split("\n")
        i = next(k for k, line in enumerate(lines) if "-->" in line)
        a, b = (
            sum(float(x) * m for x, m in zip(re.split(r"[:,.]", t)[:3], (3600, 60, 1)))
            + int(re.split(r"[:,.]", t)[3]) / 1000
            for t in lines[i].split(" --> ")
        )
        out.append((a, b, lines[i + 1 :]))
    return out


def test_srt_and_vtt_carry_the_disclosure_first(tmp_path):
    utt = synthesize("Hello there. This is Podium speaking to you today.", voice=FAST_VOICE)
    spoken = make_cues(utt)
    cues = with_disclosure(spoken, duration=utt.duration)
    write_srt(cues, tmp_path / "v.srt")
    write_vtt(cues, tmp_path / "v.vtt")
    srt = (tmp_path / "v.srt").read_text(encoding="utf-8")
    vtt = (tmp_path / "v.vtt").read_text(encoding="utf-8")
    assert srt.startswith("1\n00:00:00,000 --> ")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ")
    for blocks in (_blocks(srt), _blocks(vtt.split("\n", 1)[1])):
        start, end, lines = blocks[0]
        assert start == 0.0 and lines[0] == EN and end >= 1.0
        # Every spoken line is still there, in order, and no cue overlaps the next.
        shown = [line for _, _, ls in blocks for line in ls if line != EN]
        assert shown == [line for cue in spoken for line in cue.lines]
        assert all(b[1] <= c[0] + 1e-3 for b, c in zip(blocks, blocks[1:]))
        assert blocks[-1][1] <= utt.duration + 1e-3
