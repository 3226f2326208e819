"""Temporal and compositing quality of redrawn mouths, measured on dubbed videos.

Dubbing keeps every input frame, so each output frame can be compared with the
frame it was drawn on: whatever differs is the renderer's doing. Checked: no seam
where the new mouth meets the old face, lips that move no more jerkily than the
real person's, and a mouth as sharp as the footage's.
"""

from __future__ import annotations

import cv2
import numpy as np
from conftest import FOOTAGE_DIR, needs_shared

from podium import speech
from podium.avatars import AvatarLibrary, create_from_footage
from podium.avatars.landmarks import LIPS, inter_ocular
from podium.avatars.tracking import track
from podium.common.media import probe, read_frames
from podium.lipsync.dubbing import dub_video
from podium.lipsync.metrics import ALIGN_POINTS, measure

LINE = "Bob ate a big apple by the lake. We saw the moon rise over the water."


def lip_jerk(points: np.ndarray) -> float:
    """Median second difference of the lip points over time, after aligning each frame's
    face on stable points (eyes, nose) to the first one, in % of the inter-ocular distance."""
    ref = points[0][list(ALIGN_POINTS)]
    lips = []
    for p in points:
        m, _ = cv2.estimateAffinePartial2D(p[list(ALIGN_POINTS)].astype(np.float32), ref.astype(np.float32))
        lips.append(p[list(LIPS)] @ m[:, :2].T + m[:, 2])
    lips = np.stack(lips)
    acc = np.linalg.norm(lips[2:] - 2 * lips[1:-1] + lips[:-2], axis=2).mean(axis=1)
    return float(100 * np.median(acc) / inter_ocular(points[0]))


def _dubbed(record, src, tmp_path):
    fps = probe(src).fps
    utt = speech.synthesize(LINE)
    out = dub_video(record, src, utt, tmp_path / "dubbed.mp4").video
    frames_in = list(read_frames(src, fps=fps))
    frames_out = list(read_frames(out))[: len(frames_in)]
    n = min(len(frames_out), int(utt.duration * fps))  # only the frames with new speech
    return frames_in[:n], frames_out[:n]


def _check(record, src, tmp_path):
    frames_in, frames_out = _dubbed(record, src, tmp_path)
    points = track(frames_in).points
    # 1. no jitter: lips move no more jerkily than the real footage's own lips
    real, dubbed = measure(frames_in), measure(frames_out, boxes_from=points)
    ok = ~np.isnan(dubbed.points[:, 0, 0]) & ~np.isnan(real.points[:, 0, 0])
    assert ok.mean() > 0.95
    jerk_out, jerk_in = lip_jerk(dubbed.points[ok]), lip_jerk(real.points[ok])
    assert jerk_out < 1.5 * jerk_in + 0.3, f"lips jitter: {jerk_out:.2f} vs footage {jerk_in:.2f} % IOD"
    # 2. not smeared: the mouth is about as sharp as in the footage
    ratio = np.nanmean(dubbed.mouth_sharpness) / np.nanmean(real.mouth_sharpness)
    assert ratio > 0.7, f"mouth blurred: sharpness {ratio:.2f} of the footage's"
    return jerk_out, jerk_in, ratio


def test_dub_of_rendered_footage_has_no_seam_jitter_or_blur(photo_avatar, rendered_footage, tmp_path):
    _check(photo_avatar, rendered_footage, tmp_path)


@needs_shared
def test_dub_of_real_footage_has_no_seam_jitter_or_blur(session_home, tmp_path):
    lib = AvatarLibrary(session_home)
    name = "dub-presenter_d"  # shared with test_dub: built once per session
    src = FOOTAGE_DIR / "presenter_d.mp4"
    record = lib.get(name) if lib.exists(name) else create_from_footage(lib, name, src, consent="T")
    jerk_out, jerk_in, ratio = _check(record, src, tmp_path)
    print(f"jerk {jerk_out:.2f} vs footage {jerk_in:.2f} % IOD, sharpness ratio {ratio:.2f}")


# --- seams: the compositor -------------------------------------------------------------


def _base(avatar):
    from podium.lipsync.pipeline import loop_frames

    return next(loop_frames(avatar, 1))


def test_paste_mask_has_no_box_edge(photo_avatar):
    """The paste mask is zero on the crop's border and rises over several pixels, so the
    crop's rectangle never shows."""
    from podium.lipsync.loaded_avatar import load_avatar

    mask = load_avatar(photo_avatar).bank.mask
    border = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    assert border.max() < 0.01
    assert mask.max() > 0.99
    steepest = max(np.abs(np.diff(mask, axis=0)).max(), np.abs(np.diff(mask, axis=1)).max())
    assert steepest < 1 / 6, f"mask edge rises over fewer than 6 pixels ({steepest:.2f} per pixel)"


def test_colour_mismatch_leaves_no_seam(photo_avatar):
    """A mouth crop 20 grey levels too bright (other lighting in the bank frame) is matched
    to the frame it is pasted on: no brighter patch, no seam."""
    from podium.avatars.bank import extract_crop
    from podium.lipsync.compositing import Compositor
    from podium.lipsync.loaded_avatar import load_avatar

    avatar = load_avatar(photo_avatar)
    base = _base(avatar)
    geometry = avatar.bank.geometry
    crop = extract_crop(base.image, base.frame_to_canon, geometry)
    brighter = np.clip(crop.astype(int) + 20, 0, 255).astype(np.uint8)
    out = Compositor(geometry, avatar.bank.mask).paste(base.image, brighter, base.frame_to_canon)
    naive = Compositor(geometry, avatar.bank.mask)
    naive._ring[:] = 0  # colour matching off: the control that must show the mismatch
    bad = naive.paste(base.image, brighter, base.frame_to_canon)
    change = np.abs(out.astype(int) - base.image.astype(int))
    assert np.abs(bad.astype(int) - base.image.astype(int)).max() >= 15
    assert np.quantile(change, 0.999) <= 4, f"pasted crop stands out by {np.quantile(change, 0.999)} levels"
