"""Dubbing an existing video: same frames, fps and size; only the mouth region changes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import FOOTAGE_DIR, needs_shared
from measure import expected_openness, lip_gaps

from podium import speech
from podium.avatars import AvatarLibrary, create_from_footage
from podium.avatars.landmarks import JAW, NOSE_BOTTOM, inter_ocular
from podium.avatars.tracking import track
from podium.common.media import probe, read_frames
from podium.lipsync.dubbing import dub_video


def _outside_mouth_unchanged(src, out, fps):
    """Pixels away from the lower face match the input up to compression noise."""
    tracks = track(read_frames(src, fps=fps))
    changed_inside = []
    for i, (a, b) in enumerate(zip(read_frames(src, fps=fps), read_frames(out))):
        diff = np.abs(a.astype(int) - b.astype(int)).max(axis=2)
        p = tracks.points[i]
        region = np.zeros(diff.shape, np.uint8)
        if not np.isnan(p[0, 0]):
            hull = cv2.convexHull(p[list(JAW) + list(NOSE_BOTTOM)].astype(np.int32))
            cv2.fillConvexPoly(region, hull, 1)
            grow = int(0.3 * inter_ocular(p))
            region = cv2.dilate(region, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
            changed_inside.append(diff[region > 0].mean())
        outside = diff[region == 0]
        assert outside.mean() < 2.5, f"frame {i}: pixels outside the mouth changed ({outside.mean():.2f})"
        assert np.quantile(outside, 0.995) < 20, f"frame {i}: strong changes outside the mouth"
    assert np.mean(changed_inside) > 2.0, "the mouth region was not redrawn"


def _dub_and_check(record, src, tmp_path):
    info = probe(src)
    n_in = sum(1 for _ in read_frames(src, fps=info.fps))
    utt = speech.synthesize("Bob ate a big apple. Maybe later.")
    assert utt.duration < n_in / info.fps
    out = tmp_path / "dubbed.mp4"
    result = dub_video(record, src, utt, out)
    out_info = probe(out)
    assert (out_info.width, out_info.height) == (info.width - info.width % 2, info.height - info.height % 2)
    assert abs(out_info.fps - info.fps) < 0.05
    assert result.frames == n_in == sum(1 for _ in read_frames(out))
    _outside_mouth_unchanged(src, out, info.fps)
    gaps, found = lip_gaps(out)
    spoken = (np.arange(len(gaps)) + 0.5) / info.fps < utt.duration
    expect = expected_openness(utt.phonemes, len(gaps), info.fps)
    ok = found & spoken
    r = np.corrcoef(gaps[ok], expect[ok])[0, 1]
    assert r > 0.3, f"dubbed lips do not follow the new speech (r={r:.2f})"
    return result


def test_dub_longer_speech_continues_with_base_loop(photo_avatar, rendered_footage, tmp_path):
    info = probe(rendered_footage)
    n_in = sum(1 for _ in read_frames(rendered_footage, fps=info.fps))
    utt = speech.synthesize("This new line is much longer than the video it replaces, so after the "
                            "last real frame the presenter carries on from the avatar's own base loop "
                            "until the very last word has been spoken.")
    assert utt.duration > n_in / info.fps + 1.0
    result = dub_video(photo_avatar, rendered_footage, utt, tmp_path / "long.mp4")
    n_out = sum(1 for _ in read_frames(result.video))
    assert n_out == result.frames == int(np.ceil(utt.duration * info.fps - 1e-6))
    assert abs(probe(result.video).duration - utt.duration) < 2 / info.fps + 0.05
    gaps, found = lip_gaps(result.video)
    assert found.all()


def test_dub_rendered_footage(photo_avatar, rendered_footage, tmp_path):
    _dub_and_check(photo_avatar, rendered_footage, tmp_path)


@needs_shared
def test_dub_shared_clip(session_home, tmp_path):
    lib = AvatarLibrary(session_home)
    name = "dub-presenter_d"
    src = FOOTAGE_DIR / "presenter_d.mp4"
    record = lib.get(name) if lib.exists(name) else create_from_footage(lib, name, src, consent="T")
    _dub_and_check(record, src, tmp_path)


def test_mouth_targets_invert_the_mouth_model(photo_avatar):
    from podium.avatars.mouth import MouthModel

    model = MouthModel.load(photo_avatar.part("mouth_model"))
    rng = np.random.default_rng(3)
    openness = np.r_[0.0, rng.uniform(0.05, 1.2, 40)]
    spread = np.r_[0.0, rng.uniform(-1.0, 1.0, 40)]
    o, s = model.targets(model.lips(openness, spread))
    assert np.abs(o - openness).max() < 0.03
    assert np.abs(s - spread).max() < 0.1


def test_dub_draws_a_given_mouth_track(photo_avatar, rendered_footage, tmp_path):
    """A mouth track measured on one video, drawn onto it again, gives back its lip motion."""
    from podium.avatars.landmarks import canonical_lips
    from podium.avatars.mouth import MouthModel
    from podium.lipsync.coarticulation import MouthTrack

    info = probe(rendered_footage)
    src_gaps, src_found = lip_gaps(rendered_footage)
    tracks = track(read_frames(rendered_footage, fps=info.fps))
    lips = canonical_lips(tracks.points)
    model = MouthModel.load(photo_avatar.part("mouth_model"))
    openness, spread = model.targets(lips)
    # Silent speech: any lip motion in the output comes from the given track.
    silence = speech.Utterance(np.zeros(int(info.duration * 16000), np.float32), 16000, (), (), ())
    with pytest.raises(ValueError, match="fps"):
        dub_video(photo_avatar, rendered_footage, silence, tmp_path / "bad.mp4",
                  mouth=MouthTrack(openness, spread, info.fps / 2))
    out = dub_video(photo_avatar, rendered_footage, silence, tmp_path / "redrawn.mp4",
                    mouth=MouthTrack(openness, spread, info.fps)).video
    gaps, found = lip_gaps(out)
    n = min(len(gaps), len(src_gaps))
    ok = found[:n] & src_found[:n]
    assert np.ptp(gaps[:n][ok]) > 0.05, "the given track did not open the mouth"
    r = np.corrcoef(gaps[:n][ok], src_gaps[:n][ok])[0, 1]
    assert r > 0.8, f"the redrawn lips do not follow the given track (r={r:.2f})"
