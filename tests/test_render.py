"""End-to-end renders, checked from the outside: ffprobe-style stream facts and MediaPipe
on the output frames."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from conftest import FOOTAGE_DIR, needs_shared
from measure import expected_openness, lip_gaps

from podium import speech
from podium.common.media import ffmpeg_exe, probe
from podium.lipsync import render_utterance

SCRIPT = ("Bob ate a big apple by the lake. [pause 1.5s] "
          "My mom made pasta, and we all had a bowl of it.")


def _pause_window(utt) -> tuple[float, float]:
    """The longest gap between phones (the scripted 1.5 s pause), seconds."""
    ends = np.array([p.end for p in utt.phonemes[:-1]])
    starts = np.array([p.start for p in utt.phonemes[1:]])
    k = int(np.argmax(starts - ends))
    return float(ends[k]), float(starts[k])


def _check_video(result, utt, tmp_path):
    info = probe(result.video)
    assert info.video_codec == "h264" and info.has_audio
    text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(result.video)],
                          capture_output=True, text=True).stderr
    assert "yuv420p" in text and re.search(r"Audio: aac", text)
    # faststart: the moov atom comes before the media data.
    head = result.video.read_bytes()[:200_000]
    assert head.find(b"moov") != -1 and head.find(b"moov") < head.find(b"mdat")
    fps = 25.0
    n_video = result.frames
    assert abs(n_video / fps - utt.duration) <= 1.0 / fps + 1e-6
    assert abs(info.duration - utt.duration) <= 1.0 / fps + 0.03
    for cap in (result.srt, result.vtt):
        assert cap.is_file() and cap.stat().st_size > 0
    return fps


def _lip_checks(result, utt, fps):
    gaps, found = lip_gaps(result.video)
    assert found.all(), f"no face in output frames {np.flatnonzero(~found)[:10]}"
    expect = expected_openness(utt.phonemes, len(gaps), fps)
    r = np.corrcoef(gaps, expect)[0, 1]
    assert r > 0.35, f"lip gap does not follow the phonemes (r={r:.2f})"
    t = (np.arange(len(gaps)) + 0.5) / fps
    a, b = _pause_window(utt)
    assert b - a >= 1.45
    inside = (t > a + 0.3) & (t < b - 0.1)  # MediaPipe lags a frame or two
    # MediaPipe reads a closed mouth as a small positive gap that differs per face, so
    # "closed" is judged against this video's own range: its tightest frames vs open vowels.
    lo, hi = np.quantile(gaps, 0.05), np.median(gaps[expect >= 0.7])
    assert hi - lo > 0.03, f"the mouth barely opens (range {lo:.3f}-{hi:.3f})"
    closed = lo + 0.45 * (hi - lo)  # nearer closed than open, with a margin
    pause = gaps[inside]
    # Robust statistics: on a swaying head MediaPipe reads a closed mouth with frame-to-frame
    # noise of about 0.01 IOD, a good part of the range of a presenter who opens only a
    # little (a second-generation avatar made from rendered footage); lip motion in the
    # pause would move the median and spread the middle half over the open-closed range.
    assert np.median(pause) < closed, "mouth not closed in the pause"
    q1, q3 = np.quantile(pause, [0.25, 0.75])
    assert q3 - q1 < 0.35 * (hi - lo), "lips move during the pause"
    # Every bilabial closes: at its centre the gap is nearer the closed level than the open one.
    for ph in utt.phonemes:
        if ph.symbol.strip("ˈˌː") in ("b", "p", "m"):
            k = min(int((ph.start + ph.end) / 2 * fps), len(gaps) - 1)
            closest = np.nanmin(gaps[max(k - 2, 0):k + 3])  # MediaPipe lags a frame or two
            assert closest < lo + 0.5 * (hi - lo), f"'{ph.symbol}' at {ph.start:.2f}s not closed"
    return r


def test_photo_avatar_render(photo_avatar, tmp_path):
    utt = speech.synthesize(SCRIPT)
    result = render_utterance(photo_avatar, utt, tmp_path / "photo.mp4")
    fps = _check_video(result, utt, tmp_path)
    _lip_checks(result, utt, fps)


def test_rendered_footage_avatar(rendered_footage, session_home, tmp_path):
    """Footage path without ../shared: footage rendered from the sample portrait."""
    from podium.avatars import AvatarLibrary, create_from_footage

    lib = AvatarLibrary(session_home)
    record = create_from_footage(lib, "selfmade", rendered_footage, consent="Eileen Collins")
    utt = speech.synthesize(SCRIPT)
    result = render_utterance(record, utt, tmp_path / "selfmade.mp4")
    fps = _check_video(result, utt, tmp_path)
    _lip_checks(result, utt, fps)


def _footage_avatar(session_home, clip: str):
    """The avatar of a shared clip, built once per session."""
    from podium.avatars import AvatarLibrary, create_from_footage

    lib = AvatarLibrary(session_home)
    name = f"r-{clip}"
    return lib.get(name) if lib.exists(name) else create_from_footage(
        lib, name, FOOTAGE_DIR / f"{clip}.mp4", consent="Test Presenter")


@needs_shared
@pytest.mark.parametrize("clip", ["presenter_c", "silent_portrait"])
def test_shared_footage_render(clip, session_home, tmp_path):
    record = _footage_avatar(session_home, clip)
    utt = speech.synthesize(SCRIPT)
    result = render_utterance(record, utt, tmp_path / f"{clip}.mp4")
    fps = _check_video(result, utt, tmp_path)
    _lip_checks(result, utt, fps)


def _closed_choices(record):
    """Gaps of the bank mouths chosen for a shut target after 3 frames of each opening."""
    from podium.avatars.landmarks import lip_features
    from podium.lipsync.loaded_avatar import load_avatar
    from podium.lipsync.warp_renderer import WarpRenderer

    avatar = load_avatar(record)
    gaps = lip_features(avatar.bank.lips)[:, 0]
    chosen = []
    for before in (0.0, 0.3, 0.6, 1.0):
        renderer = WarpRenderer(avatar.bank)
        for o in [before] * 3 + [0.0] * 3:
            k = renderer.choose(avatar.model.lips(np.array([o]), np.array([0.0]))[0])
        chosen.append(gaps[k])
    return np.array(chosen), gaps


def test_warp_renderer_draws_closed_lips_from_a_closed_mouth(photo_avatar, session_home):
    """A shut target is warped from one of the bank's most closed mouths, even right after an
    open one: an open mouth squeezed shut leaves its teeth or dark interior in the lip line."""
    records = [photo_avatar]
    if FOOTAGE_DIR.is_dir():
        records.append(_footage_avatar(session_home, "silent_portrait"))
    for record in records:
        chosen, gaps = _closed_choices(record)
        assert np.all(chosen <= gaps.min() + 0.01), (record.name, chosen, gaps.min())
