"""Avatar creation from real footage, and what a created avatar holds."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from conftest import needs_shared, shared_clips

from podium.avatars import AvatarLibrary, create_from_footage
from podium.avatars.bank import MouthBank
from podium.avatars.landmarks import lip_features
from podium.avatars.mouth import MouthModel
from podium.common.media import probe, read_frames


def _check_avatar(record, source):
    m = record.manifest.to_dict()  # what avatar.json holds
    assert m["format_version"] == 1 and m["name"] == record.name
    consent = m["consent"]
    assert consent["name"] and consent["recorded_at"]
    assert consent["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    # Every part loads without pickle.
    for key, rel in m["parts"].items():
        path = record.path / rel
        assert path.is_file(), key
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                assert len(data.files) > 0
    loop = list(read_frames(record.part("base_loop")))
    assert len(loop) == m["loop"]["frames"] >= 25
    w, h = m["frame_size"]
    assert loop[0].shape == (h, w, 3)
    with np.load(record.part("base_tracks")) as t:
        assert t["points"].shape == (len(loop), 478, 2)
        assert not np.isnan(t["points"]).any()
    model = MouthModel.load(record.part("mouth_model"))
    feats = lip_features(np.stack([model.neutral, model.open, model.wide, model.rounded]))
    assert feats[0, 0] < 0.01, "neutral pose must be closed"
    assert feats[1, 0] > 0.1, "open pose must open"
    assert feats[2, 1] > feats[0, 1] > feats[3, 1], "wide > neutral > rounded width"
    bank = MouthBank.load(record.part("mouth_bank"))
    assert len(bank) == m["bank_size"] >= 10
    assert bank.crops.shape[1:3] == (bank.geometry.size[1], bank.geometry.size[0])
    assert 0.99 <= bank.mask.max() <= 1.0 and bank.mask[0, 0] < 0.01  # feathered, not a box
    return loop


def _loop_is_seamless(record):
    """The head moves no more across the loop's wrap than between any two frames inside it."""
    with np.load(record.part("base_tracks")) as t:
        pts = t["points"][:, [1, 4, 33, 263, 152]]  # nose, eye corners, chin
    steps = np.linalg.norm(np.diff(pts, axis=0), axis=2).mean(1)
    if record.manifest.loop.mode == "pingpong":
        return  # forward then backward: the turn repeats a frame by construction
    wrap = np.linalg.norm(pts[-1] - pts[0], axis=1).mean()
    assert wrap <= steps.max() * 1.05 + 1e-6, (wrap, steps.max())


@needs_shared
@pytest.mark.parametrize("clip", shared_clips(), ids=lambda p: p.stem)
def test_create_from_every_shared_clip(clip, tmp_path):
    lib = AvatarLibrary(tmp_path)
    record = create_from_footage(lib, clip.stem, clip, consent="Test Presenter")
    _check_avatar(record, clip)
    _loop_is_seamless(record)
    assert record.manifest.quality["face_ratio"] >= 0.9
    assert abs(record.manifest.source.duration_s - probe(clip).duration) < 0.1
    assert lib.names() == [clip.stem]


def test_create_from_rendered_footage(rendered_footage, tmp_path):
    lib = AvatarLibrary(tmp_path)
    record = create_from_footage(lib, "self", rendered_footage, consent="Eileen Collins")
    _check_avatar(record, rendered_footage)
    _loop_is_seamless(record)


def test_photo_avatar_has_living_loop(photo_avatar):
    from conftest import PORTRAIT

    from podium.avatars.landmarks import LEFT_EYE_LOWER, LEFT_EYE_UPPER
    from podium.avatars.tracking import FaceTracker

    loop = _check_avatar(photo_avatar, PORTRAIT)
    assert photo_avatar.manifest.loop.mode == "cycle"
    _loop_is_seamless(photo_avatar)
    # Small natural head motion: landmarks move a few pixels, not zero and not wildly.
    with np.load(photo_avatar.part("base_tracks")) as t:
        nose = t["points"][:, 4]
    travel = np.ptp(nose, axis=0).max()
    assert 1.0 < travel < 40.0
    # Blinks: the eye opening measured by MediaPipe on the loop drops well below its usual size.
    openings = []
    with FaceTracker(static=True, max_faces=1) as tracker:
        for frame in loop:
            p = tracker.detect(frame)[0]
            openings.append(np.mean(p[list(LEFT_EYE_LOWER), 1] - p[list(LEFT_EYE_UPPER), 1]))
    openings = np.array(openings)
    assert openings.min() < 0.5 * np.median(openings), "no blink in the photo loop"


def test_photo_mouth_opens_without_black_hole(photo_avatar):
    """Open mouths in the photo bank show a lit interior with teeth, not a black hole."""
    import cv2

    from podium.avatars.landmarks import apply

    bank = MouthBank.load(photo_avatar.part("mouth_bank"))
    gaps = lip_features(bank.lips)[:, 0]
    k = int(np.argmax(gaps))
    assert gaps[k] > 0.2
    crop = bank.crops[k]
    inner = apply(bank.geometry.canon_to_crop(), bank.lips[k][20:])
    mask = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(inner).astype(np.int32)], 1)
    pixels = crop[mask > 0].astype(float)
    luma = pixels @ [0.299, 0.587, 0.114]
    assert luma.mean() > 30, "inner mouth is a black hole"
    assert (luma > 150).mean() > 0.08, "no teeth in an open mouth"
    assert (luma < 80).mean() > 0.2, "no dark oral cavity"

def test_photo_closed_mouth_has_no_dark_corner_strokes(photo_avatar):
    """The smile's shadowed corners do not survive closing the lips (they would show as strokes)."""
    import cv2

    from podium.avatars.landmarks import apply

    bank = MouthBank.load(photo_avatar.part("mouth_bank"))
    k = int(np.argmin(lip_features(bank.lips)[:, 0]))
    crop, lips = bank.crops[k], apply(bank.geometry.canon_to_crop(), bank.lips[k])
    ppu = bank.geometry.px_per_unit
    lum = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(float)
    lip_area = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(lip_area, [np.round(lips[:20]).astype(np.int32)], 1)
    seam = np.zeros(crop.shape[:2], np.uint8)  # where closed lips meet: dark by nature
    cv2.polylines(seam, [np.round(lips[20:]).astype(np.int32)], True, 1, thickness=5)
    dark = 0
    for corner in (lips[0], lips[10]):
        near = np.zeros(crop.shape[:2], np.uint8)
        cv2.circle(near, tuple(int(v) for v in np.round(corner)), int(0.13 * ppu), 1, -1)
        dark += int(((near > 0) & (seam == 0) & (lum < 0.8 * np.median(lum[lip_area > 0]))).sum())
    assert dark <= 4, f"{dark} dark pixels at the mouth corners"
