"""Avatar creation: footage or a photo in, a stored avatar out."""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from podium.avatars import landmarks as L
from podium.avatars.bank import MouthBank, build_mask, extract_crop, landmark_sets, reshape_crop
from podium.avatars.library import AvatarLibrary, AvatarRecord, write_manifest
from podium.avatars.manifest import AvatarManifest, Consent, Loop, Source
from podium.avatars.mouth import MIN_OPEN_APERTURE, CropGeometry, MouthModel, close_inner
from podium.avatars.mouth_synth import refine_inner_lips, teeth_colour
from podium.avatars.quality import FootageLimits, check_probe, check_tracks
from podium.avatars.tracking import track_video
from podium.common.errors import UserInputError
from podium.common.media import VideoWriter, probe, read_frames
from podium.common.progress import Progress, silent

#: Frame rate of every avatar (and of the videos rendered from it).
AVATAR_FPS = 25
MAX_SIDE = 1280
LOOP_SECONDS = 4.0
MAX_BANK = 240


#: Longest consent name stored, characters.
MAX_CONSENT_NAME = 200
_NOT_IN_A_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff<>{}\[\]|`]")


def check_consent_name(consent) -> str:
    """The consenting person's full name, stripped: text a person would write, printed and
    stored safely (no control or direction characters, no markup).

    Raises
    ------
    UserInputError
    """
    if not isinstance(consent, str) or not consent.strip():
        raise UserInputError(
            "creating an avatar needs consent: give the full name of the person shown, who "
            "agreed to be turned into an avatar (--consent \"Full Name\")")
    name = unicodedata.normalize("NFC", " ".join(consent.split()))
    bad = _NOT_IN_A_NAME.search(name)
    if bad is not None:
        raise UserInputError(f"the consent name may not contain {bad.group()!r} (U+{ord(bad.group()):04X}); "
                             "give the person's full name as plain text")
    if len(name) > MAX_CONSENT_NAME:
        raise UserInputError(f"the consent name is {len(name)} characters; give at most {MAX_CONSENT_NAME}")
    return name


def _consent(consent: str | None, source: Path) -> Consent:
    consent = check_consent_name(consent)
    digest = hashlib.sha256()
    with open(source, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return Consent(
        name=consent.strip(),
        statement=f"{consent.strip()} consented to the creation of this avatar from "
                  f"'{source.name}'.",
        recorded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        source_file=source.name,
        source_sha256=digest.hexdigest(),
    )


def _geometry(iod_px: float) -> CropGeometry:
    # Crops at roughly the footage's own resolution keep teeth sharp; the clamp
    # bounds memory for very large or very small faces.
    return CropGeometry(px_per_unit=float(np.clip(round(iod_px), 48, 200)))


def _select_bank(lips: np.ndarray, n: int) -> np.ndarray:
    """Indices of up to ``n`` lip shapes spread over the shape space (farthest-point)."""
    if len(lips) <= n:
        return np.arange(len(lips))
    flat = lips.reshape(len(lips), -1)
    chosen = [int(np.argmin(L.lip_features(lips)[:, 0]))]
    dist = np.linalg.norm(flat - flat[chosen[0]], axis=1)
    for _ in range(n - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(flat - flat[nxt], axis=1))
    return np.sort(np.array(chosen))


def _steady_window(transforms: np.ndarray, apertures: np.ndarray, valid: np.ndarray, length: int) -> int:
    """Start of the ``length``-frame window best suited to be the base loop.

    The mouth is replaced in every frame, but the jaw line, chin and cheeks of the
    base frames stay: a stretch where the head is steady *and* the mouth is nearly
    closed and still needs the least correction, so it shows the fewest seams.

    Parameters
    ----------
    transforms : np.ndarray
        (n, 2, 3) canonical transforms (NaN where no face).
    apertures : np.ndarray
        (n,) inner-lip gap, inter-ocular units (NaN where no face).
    valid : np.ndarray
        (n,) bool, frames with exactly one face.
    """
    # Translation of the canonical frame: head motion in inter-ocular units.
    pos = np.nan_to_num(transforms[:, :, 2])
    ang = np.nan_to_num(np.arctan2(transforms[:, 0, 1], transforms[:, 0, 0]))
    head = np.r_[0.0, np.linalg.norm(np.diff(pos, axis=0), axis=1) + np.abs(np.diff(ang))]
    ap = np.nan_to_num(apertures)
    mouth = 2.0 * ap + 5.0 * np.r_[0.0, np.abs(np.diff(ap))]
    cost = np.where(valid, 10.0 * head + mouth, 1e6)
    csum = np.r_[0.0, np.cumsum(cost)]
    return int(np.argmin(csum[length:] - csum[:-length]))


def _synthetic_openings(crop, geometry, lips, jaw, nose, model: MouthModel, teeth) -> list:
    """Extra bank entries with an opened mouth, made from one closed crop."""
    out = []
    for o in (0.25, 0.45, 0.65, 0.85, 1.05, 1.25):
        for s in (-1.0, 0.0, 1.0):
            target = model.lips(np.array([o]), np.array([s]))[0]
            img = reshape_crop(crop, geometry, (lips, jaw, nose), target, paint=True, teeth_rgb=teeth)
            out.append((img, target, jaw, nose))
    return out


def _bank_from(entries: list, geometry: CropGeometry, mask: np.ndarray) -> MouthBank:
    crops, lips, jaws, noses = zip(*entries)
    f32 = lambda a: np.asarray(a, np.float32)
    return MouthBank(geometry, np.stack(crops).astype(np.uint8), f32(np.stack(lips)),
                     f32(np.stack(jaws)), f32(np.stack(noses)), f32(mask))


def _save_common(folder: Path, model: MouthModel, bank: MouthBank, loop_transforms: np.ndarray,
                 loop_points: np.ndarray) -> dict:
    parts = folder / "parts"
    model.save(parts / "mouth_model.npz")
    bank.save(parts / "mouth_bank.npz")
    np.savez_compressed(parts / "base_tracks.npz", frame_to_canon=loop_transforms.astype(np.float32),
                        points=loop_points.astype(np.float32))
    return {
        "base_loop": "parts/base_loop.mp4",
        "base_tracks": "parts/base_tracks.npz",
        "mouth_model": "parts/mouth_model.npz",
        "mouth_bank": "parts/mouth_bank.npz",
    }


def create_from_footage(library: AvatarLibrary, name: str, footage: str | Path, *,
                        consent: str | None, progress: Progress = silent,
                        limits: FootageLimits = FootageLimits()) -> AvatarRecord:
    """Build an avatar from a clip of the presenter.

    Parameters
    ----------
    library : AvatarLibrary
        Where the avatar is stored.
    name : str
        Avatar name (letters, digits, '-', '_').
    footage : str or Path
        Video of one person facing the camera, 3 s - 10 min.
    consent : str
        Full name of the consenting presenter; required.

    Raises
    ------
    FootageError
        The clip fails a probe or quality check; nothing is written.
    """
    started = time.perf_counter()
    footage = Path(footage)
    with library.staging(name) as folder:
        info = probe(footage)
        check_probe(info, footage.name, limits)
        consent_record = _consent(consent, footage)
        tracks = track_video(footage, fps=AVATAR_FPS, duration=info.duration, max_side=MAX_SIDE,
                             progress=progress)
        report = check_tracks(tracks, footage.name, AVATAR_FPS, limits)
        present = tracks.present
        idx = np.flatnonzero(present)
        transforms = np.full((len(present), 2, 3), np.nan)
        canon = np.full_like(tracks.points, np.nan)
        for i in idx:
            transforms[i] = L.canonical_transform(tracks.points[i])
            canon[i] = L.apply(transforms[i], tracks.points[i])
        lips_all, jaw_all, nose_all = landmark_sets(canon)
        geometry = _geometry(report["inter_ocular_px"])
        bank_idx = set(idx[_select_bank(lips_all[idx], MAX_BANK)].tolist())
        loop_len = int(min(LOOP_SECONDS * AVATAR_FPS, len(idx)))
        start = _steady_window(transforms, L.lip_features(lips_all)[:, 0], present, loop_len)
        loop_idx = range(start, start + loop_len)
        w, h = tracks.frame_size
        entries = []
        c2p = geometry.canon_to_crop()
        p2c = L.invert_similarity(c2p)
        with VideoWriter(folder / "parts" / "base_loop.mp4", size=(w - w % 2, h - h % 2),
                         fps=AVATAR_FPS, crf=14) as writer:
            for i, frame in enumerate(read_frames(footage, fps=AVATAR_FPS, max_side=MAX_SIDE)):
                if i in bank_idx:
                    crop = extract_crop(frame, transforms[i], geometry)
                    # Face Mesh puts inner-lip points on the teeth of a smile; move them
                    # to the visible lip edge so "closed" really means no teeth showing.
                    lips = L.apply(p2c, refine_inner_lips(crop, L.apply(c2p, lips_all[i])))
                    entries.append((crop, lips, jaw_all[i], nose_all[i]))
                if i in loop_idx:
                    writer.write(np.ascontiguousarray(frame[: h - h % 2, : w - w % 2]))
                progress("building mouth bank", i + 1, len(present))
        mask = build_mask(geometry, np.nanmedian(canon[idx], axis=0))
        bank_lips = np.stack([e[1] for e in entries])
        model = MouthModel.fit(bank_lips)
        apertures = L.lip_features(bank_lips)[:, 0]
        closed_pick = (None, int(np.argmin(np.abs(apertures - L.lip_features(model.neutral)[0]))))
        open_seen = np.quantile(apertures, 0.95)
        if open_seen < 0.6 * model.open_aperture or open_seen < MIN_OPEN_APERTURE:
            # The person barely opened their mouth on camera: add openings made
            # from their own closed mouth so speech can still be shown.
            crop, lips, jaw, nose = entries[closed_pick[1]]
            closed = close_inner(lips)
            crop = reshape_crop(crop, geometry, (lips, jaw, nose), closed, paint=False)
            entries += _synthetic_openings(crop, geometry, closed, jaw, nose, model,
                                           teeth_colour(crop, L.apply(geometry.canon_to_crop(), lips)))
            report["synthetic_mouths"] = True
        bank = _bank_from(entries, geometry, mask)
        parts = _save_common(folder, model, bank, transforms[loop_idx.start:loop_idx.stop],
                             tracks.points[loop_idx.start:loop_idx.stop])
        write_manifest(folder, AvatarManifest(
            name=name,
            kind="footage",
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            consent=consent_record,
            source=Source(file=footage.name, duration_s=round(info.duration, 3),
                          width=info.width, height=info.height, fps=info.fps),
            fps=float(AVATAR_FPS),
            frame_size=(w - w % 2, h - h % 2),
            loop=Loop(frames=loop_len, mode="pingpong", source_start_frame=start),
            renderer="warp",
            bank_size=len(bank),
            quality=report,
            build_seconds=round(time.perf_counter() - started, 2),
            parts=parts,
        ))
    return library.get(name)
