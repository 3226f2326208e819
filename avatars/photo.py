"""Photo avatars: one portrait becomes a living base loop and a synthetic mouth bank."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np

from podium.avatars import landmarks as L
from podium.avatars.bank import build_mask, extract_crop, landmark_sets, reshape_crop
from podium.avatars.create import AVATAR_FPS, LOOP_SECONDS, MAX_SIDE, _bank_from, _consent, _geometry, _save_common
from podium.avatars.library import AvatarLibrary, AvatarRecord, write_manifest
from podium.avatars.manifest import AvatarManifest, Loop, Source
from podium.avatars.mouth import FALLBACK_OPEN_APERTURE, MouthModel, close_inner, parametric_open, parametric_spread
from podium.avatars.mouth_synth import clean_mouth_corners, paint_lip_seam, refine_inner_lips, teeth_colour
from podium.avatars.quality import FootageLimits
from podium.avatars.tracking import FaceTracker
from podium.avatars.warp import warp_maps
from podium.common.errors import FootageError
from podium.common.media import VideoWriter, check_image_size
from podium.common.progress import Progress, silent

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def load_portrait(path: str | Path) -> np.ndarray:
    """Read a portrait as RGB uint8 (h, w, 3) with even sides, at most MAX_SIDE px; its size
    is checked on its header before it is decoded (:func:`podium.common.media.check_image_size`)."""
    path = Path(path)
    if not path.is_file():
        raise FootageError(f"photo not found: '{path}'; check the path")
    if path.suffix.lower() not in PHOTO_SUFFIXES:
        raise FootageError(f"'{path.name}' is not a supported photo; use JPEG, PNG or WebP")
    check_image_size(path, "photo", error=FootageError)
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FootageError(f"'{path.name}' could not be read as an image; is the file corrupt?")
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    if min(h, w) < 240:
        raise FootageError(f"'{path.name}' is {w}x{h}; a portrait needs at least 240 px on each side")
    s = min(1.0, MAX_SIDE / max(h, w))
    if s < 1.0:
        img = cv2.resize(img, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
    h, w = img.shape[:2]
    return np.ascontiguousarray(img[: h - h % 2, : w - w % 2])


def _motion(n: int, rng: np.random.Generator) -> np.ndarray:
    """Periodic head sway over ``n`` frames: (n, 3) of (dx, dy, angle) in IOD units / radians.

    Sums of sinusoids with whole cycles per loop, so the loop closes seamlessly.
    """
    t = np.arange(n) / n * 2 * np.pi
    out = np.zeros((n, 3))
    amp = (0.025, 0.018, 0.012)
    for k in range(3):
        for cycles in (1, 2, 3):
            out[:, k] += amp[k] / cycles * np.sin(cycles * t + rng.uniform(0, 2 * np.pi))
    return out


def _motion_weight(img: np.ndarray, pts: np.ndarray, iod: float) -> np.ndarray:
    """How much each pixel follows the head, float32 (h, w) in [0, 1].

    1 on the head, fading to a little on the shoulders, 0 on the background
    (MediaPipe selfie segmentation), so the head sways while the room stays put.
    """
    import mediapipe as mp

    from podium.avatars.tracking import quiet_stderr

    h, w = img.shape[:2]
    with quiet_stderr(), mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        person = seg.process(np.ascontiguousarray(img)).segmentation_mask
    if person is None or person.shape != (h, w) or person.max() < 0.5:
        person = np.ones((h, w), np.float32)
    chin_y = float(pts[L.CHIN, 1])
    ys = np.arange(h, dtype=np.float32)[:, None]
    body = np.clip(1.0 - (ys - chin_y) / (0.9 * iod), 0.15, 1.0)
    weight = cv2.GaussianBlur(person.astype(np.float32), (0, 0), 0.12 * iod) * body
    return np.clip(weight, 0.0, 1.0).astype(np.float32)


def _blink_profile(n: int, fps: float) -> np.ndarray:
    """Eyelid closure 0..1 per frame, with two natural blinks per loop."""
    closure = np.zeros(n)
    shape = np.array([0.35, 0.8, 1.0, 0.75, 0.4, 0.15])
    for at in (0.3, 0.78):
        s = int(at * n)
        closure[s:s + len(shape)] = shape[: max(0, min(len(shape), n - s))]
    return closure


def _blink(frame: np.ndarray, points: np.ndarray, amount: float) -> np.ndarray:
    """Lower the upper eyelids by ``amount`` (0 open, 1 closed) with a local warp."""
    if amount <= 0.01:
        return frame
    out = frame
    for upper, lower in ((L.LEFT_EYE_UPPER, L.LEFT_EYE_LOWER), (L.RIGHT_EYE_UPPER, L.RIGHT_EYE_LOWER)):
        up, lo = points[list(upper)], points[list(lower)]
        eye = np.vstack([up, lo])
        pad = np.ptp(eye[:, 0]) * 0.6
        x0, y0 = np.floor(eye.min(0) - pad).astype(int)
        x1, y1 = np.ceil(eye.max(0) + pad).astype(int)
        x0, y0 = max(x0, 0), max(y0, 0)
        roi = out[y0:y1, x0:x1]
        h, w = roi.shape[:2]
        if h < 4 or w < 4:
            continue
        frame_pts = [[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1], [w / 2, 0], [w / 2, h - 1],
                     [0, h / 2], [w - 1, h / 2]]
        src = np.vstack([up - [x0, y0], lo - [x0, y0], frame_pts])
        target_up = up + (lo[::-1][::-1] - up) * amount * 0.95
        dst = np.vstack([target_up - [x0, y0], lo - [x0, y0], frame_pts])
        mx, my = warp_maps(src, dst, w, h)
        if out is frame:
            out = frame.copy()
        out[y0:y1, x0:x1] = cv2.remap(roi, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out


def create_from_photo(library: AvatarLibrary, name: str, photo: str | Path, *,
                      consent: str | None, progress: Progress = silent,
                      limits: FootageLimits = FootageLimits(), seed: int = 7) -> AvatarRecord:
    """Build an avatar from one portrait photo.

    The base loop is synthetic: a small, smooth head sway and two blinks over
    4 s; the mouth bank holds the person's own mouth closed and opened to a grid of
    shapes with a painted inner mouth.
    """
    started = time.perf_counter()
    photo = Path(photo)
    with library.staging(name) as folder:
        img = load_portrait(photo)
        consent_record = _consent(consent, photo)
        with FaceTracker(static=True) as tracker:
            faces = tracker.detect(img)
        if not faces:
            raise FootageError(f"no face found in '{photo.name}'; use a front-facing portrait")
        if len(faces) > 1:
            raise FootageError(f"'{photo.name}' shows {len(faces)} faces; use a portrait of one person")
        pts = faces[0]
        iod = float(L.inter_ocular(pts))
        if iod < limits.min_inter_ocular_px:
            raise FootageError(f"the face in '{photo.name}' is too small: its eyes are {iod:.0f} px "
                               f"apart, at least {limits.min_inter_ocular_px:.0f} px are needed")
        m = L.canonical_transform(pts)
        canon = L.apply(m, pts)
        geometry = _geometry(iod)
        lips, jaw, nose = landmark_sets(canon)
        crop = extract_crop(img, m, geometry)
        c2p = geometry.canon_to_crop()
        lips_px = refine_inner_lips(crop, L.apply(c2p, lips))
        teeth = teeth_colour(crop, lips_px)
        lips = L.apply(L.invert_similarity(c2p), lips_px)
        closed = close_inner(lips)
        closed_crop = reshape_crop(crop, geometry, (lips, jaw, nose), closed, paint=False)
        closed_px = L.apply(c2p, closed)
        closed_crop = clean_mouth_corners(closed_crop, closed_px, geometry.px_per_unit)
        closed_crop = paint_lip_seam(closed_crop, closed_px, geometry.px_per_unit)
        neutral = closed
        model = MouthModel(
            neutral=neutral.astype(np.float32),
            open=parametric_open(neutral, FALLBACK_OPEN_APERTURE).astype(np.float32),
            wide=parametric_spread(neutral, 1.12).astype(np.float32),
            rounded=parametric_spread(neutral, 0.78).astype(np.float32),
            pca_mean=neutral.reshape(-1).astype(np.float32),
            pca_components=np.zeros((0, 80), np.float32),
            pca_variance=np.zeros(0, np.float32),
        )
        entries = [(closed_crop, closed, jaw, nose)]
        grid = [(o, s) for o in (0.0, 0.12, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0, 1.2)
                for s in (-1.0, -0.5, 0.0, 0.5, 1.0)][1:]
        for k, (o, s) in enumerate(grid):
            target = model.lips(np.array([o]), np.array([s]))[0]
            entries.append((reshape_crop(closed_crop, geometry, (closed, jaw, nose), target,
                                         paint=o > 0, teeth_rgb=teeth), target, jaw, nose))
            progress("synthesising mouth shapes", k + 1, len(grid))
        bank = _bank_from(entries, geometry, build_mask(geometry, canon))
        # Close the mouth in the still too, so the base loop never shows the smile's teeth.
        base = img.copy()
        inv = L.invert_similarity(geometry.frame_to_crop(m))
        h, w = img.shape[:2]
        pasted = cv2.warpAffine(closed_crop, inv, (w, h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.warpAffine(bank.mask, inv, (w, h))[..., None]
        base = (base * (1 - alpha) + pasted * alpha).astype(np.uint8)
        n = int(LOOP_SECONDS * AVATAR_FPS)
        rng = np.random.default_rng(seed)
        sway = _motion(n, rng)
        blinks = _blink_profile(n, AVATAR_FPS)
        centre = pts[list(L.JAW)].mean(0)  # pivot low, near the neck, like a real head
        weight = _motion_weight(img, pts, iod)
        grid_y, grid_x = np.mgrid[0:h, 0:w].astype(np.float32)
        transforms, points = [], []
        with VideoWriter(folder / "parts" / "base_loop.mp4", size=(w, h), fps=AVATAR_FPS, crf=14) as writer:
            for i in range(n):
                dx, dy, ang = sway[i]
                rot = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(np.degrees(ang)), 1.0)
                rot[:, 2] += (dx * iod, dy * iod)
                frame = _blink(base, pts, blinks[i])
                # Pull each pixel from where the head motion says it came from, scaled
                # by how much that pixel belongs to the head.
                inv = cv2.invertAffineTransform(rot)
                sx = inv[0, 0] * grid_x + inv[0, 1] * grid_y + inv[0, 2]
                sy = inv[1, 0] * grid_x + inv[1, 1] * grid_y + inv[1, 2]
                map_x = grid_x + weight * (sx - grid_x)
                map_y = grid_y + weight * (sy - grid_y)
                frame = cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
                moved = L.apply(rot, pts)
                writer.write(frame)
                transforms.append(L.canonical_transform(moved))
                points.append(moved)
                progress("animating the portrait", i + 1, n)
        parts = _save_common(folder, model, bank, np.stack(transforms), np.stack(points))
        write_manifest(folder, AvatarManifest(
            name=name,
            kind="photo",
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            consent=consent_record,
            source=Source(file=photo.name, width=int(w), height=int(h)),
            fps=float(AVATAR_FPS),
            frame_size=(int(w), int(h)),
            loop=Loop(frames=n, mode="cycle"),
            renderer="warp",
            bank_size=len(bank),
            quality={"inter_ocular_px": round(iod, 1), "teeth_visible": teeth is not None},
            build_seconds=round(time.perf_counter() - started, 2),
            parts=parts,
        ))
    return library.get(name)
