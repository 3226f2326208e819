"""Training pairs for the neural lip renderer, built from the avatar's own mouth bank.

Every bank crop is a training pair: its own landmarks are the target shape, the
crop with its lower face blanked is the base, and the crop itself is the answer.
The aligned source is one of the crop's nearest *other* bank mouths (its neighbours
in time excluded, they are near-copies) warped to its landmarks, exactly as the warp
renderer would draw it; the network learns to turn that into the real crop.
Pairs are shifted together by whole pixels (and now and then scaled a little), so
the network learns to put the mouth where the landmark maps say, not where the
base's context suggests; the blanking mask stays put, as it does when rendering.

A share of the pairs instead gets the most closed mouth, opened by the warp with
a painted inner mouth: what the warp renderer shows when no real mouth is open
enough, and what the network gains most on (mouth-region L1 about halved).

Every random draw goes through the generator the caller passes to
:meth:`PairSource.sample`, so a batch depends on that generator alone.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import torch

from podium.avatars.bank import MouthBank
from podium.avatars.landmarks import lip_features
from podium.lipsync.neural import inputs as I
from podium.lipsync.neural.model import RendererConfig
from podium.lipsync.neural.settings import TrainSettings
from podium.lipsync.warp_renderer import mouth_distance


class PairSource:
    """Training pairs of one bank at the model resolution."""

    def __init__(self, bank: MouthBank, config: RendererConfig, *, n_real: int,
                 include: Sequence[int], settings: TrainSettings):
        self.bank, self.config, self.settings = bank, config, settings
        self.size = config.size
        self.ppu = bank.geometry.px_per_unit
        self.scale = I.fit_scale(bank.geometry.size, self.size)
        self.ids = np.asarray(include, np.int64)
        self.images = np.stack([I.to_model(bank.crops[i], self.size, self.scale) for i in self.ids])
        self.lips = np.stack([I.lips_px(bank.lips[i], bank.geometry, self.scale) for i in self.ids])
        self.jaw = np.stack([I.lips_px(bank.jaw[i], bank.geometry, self.scale) for i in self.ids])
        self.aligned = aligned_sources(bank, self.ids, n_real, settings.sources, settings.source_gap,
                                       self.size, self.scale)
        k = settings.sources
        self.source_p = np.r_[np.full(k, (1 - settings.closed_source) / k), settings.closed_source]
        w = np.where(self.ids < n_real, 1.0, settings.synthetic_weight)
        self.p = w / w.sum()
        self.ppu_model = self.ppu * self.scale
        # Mouth patch for the discriminator: ~1.0 x 0.66 units, multiple of 8.
        pw = int(min(self.size[0], max(32, round(1.0 * self.ppu_model / 8) * 8)))
        ph = int(min(self.size[1], max(24, round(0.66 * self.ppu_model / 8) * 8)))
        self.patch = (pw, ph)

    def sample(self, rng: np.random.Generator, n: int, *, augment: bool = True, idx=None, source: int = 0):
        """A batch: target and aligned source (n, 3, H, W) in [-1, 1], maps (n, 4, H, W),
        mouth region (n, 1, H, W), mouth patch corners (n, 2), and whether each source is a
        near mouth (True) or the opened closed one (False).

        Without augmentation, ``source`` picks the candidate (-1: the opened closed mouth)."""
        if idx is None:
            idx = rng.choice(len(self.ids), size=n, p=self.p)
        w, h = self.size
        s = self.settings
        shift = max(1, int(round(s.shift * self.ppu_model)))
        imgs, srcs, maps, mouth, corners, near = [], [], [], [], [], []
        for j in idx:
            img, lips, jaw = self.images[j], self.lips[j], self.jaw[j]
            c = int(rng.choice(len(self.source_p), p=self.source_p)) if augment else source % len(self.source_p)
            src = self.aligned[j, c]
            near.append(c < len(self.source_p) - 1)
            if augment:
                dx, dy = rng.integers(-shift, shift + 1, size=2)
                m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
                interp = cv2.INTER_NEAREST
                if rng.random() < s.scale_prob:
                    c = lips[:20].mean(0)
                    m = cv2.getRotationMatrix2D((float(c[0]), float(c[1])), float(rng.uniform(-3, 3)),
                                                float(np.exp(rng.uniform(-s.scale, s.scale))))
                    m[:, 2] += (dx, dy)
                    interp = cv2.INTER_LINEAR
                img = cv2.warpAffine(img, m, (w, h), flags=interp, borderMode=cv2.BORDER_REPLICATE)
                src = cv2.warpAffine(src, m, (w, h), flags=interp, borderMode=cv2.BORDER_REPLICATE)
                lips = lips @ m[:, :2].T + m[:, 2]
                jaw = jaw @ m[:, :2].T + m[:, 2]
            imgs.append(img)
            srcs.append(src)
            maps.append(I.draw_maps(lips, jaw, self.size, self.ppu_model))
            mouth.append(I.mouth_region(lips, self.size, self.ppu_model))
            c = lips[:20].mean(0)
            pw, ph = self.patch
            corners.append((int(np.clip(round(c[0] - pw / 2), 0, w - pw)),
                            int(np.clip(round(c[1] - ph * 0.45), 0, h - ph))))
        return (to_tensor(np.stack(imgs)), to_tensor(np.stack(srcs)), torch.from_numpy(np.stack(maps)),
                torch.from_numpy(np.stack(mouth))[:, None], np.array(corners), np.array(near))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (n, H, W, 3) -> float (n, 3, H, W) in [-1, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def teeth_of(bank: MouthBank):
    """The bank's tooth colour, found as the warp renderer finds it."""
    from podium.avatars.landmarks import apply
    from podium.avatars.mouth_synth import teeth_colour

    c2p = bank.geometry.canon_to_crop()
    return next((t for t in (teeth_colour(bank.crops[k], apply(c2p, bank.lips[k]))
                             for k in range(min(len(bank), 40))) if t), None)


def aligned_sources(bank: MouthBank, ids: np.ndarray, n_real: int, k: int, gap: int,
                    size: tuple[int, int], scale: float) -> np.ndarray:
    """uint8 (len(ids), k + 1, H, W, 3): for each crop, its ``k`` nearest other bank mouths
    (by the warp renderer's :func:`~lipsync.warp_renderer.mouth_distance`; bank neighbours
    within ``gap`` excluded, as they are near-copies in time) warped to its own landmarks
    as the warp renderer does, then the most closed real mouth warped to it (its inner
    mouth painted where it opens)."""
    from podium.avatars.bank import reshape_crop

    rel = (bank.lips - bank.nose.mean(axis=1, keepdims=True)).astype(np.float64)
    flat = rel.reshape(len(bank), -1)
    gaps = lip_features(np.asarray(bank.lips, np.float64))[:, 0]
    teeth = teeth_of(bank)
    idx = np.arange(len(bank))
    ap = gaps[:max(n_real, 1)]
    closed_order = [int(j) for j in np.argsort(ap)]
    out = np.empty((len(ids), k + 1) + (size[1], size[0], 3), np.uint8)
    for row, i in enumerate(ids):
        d = mouth_distance(flat, gaps, rel[i])
        d[np.abs(idx - i) <= gap] = np.inf
        d[i] = np.inf
        order = [int(j) for j in np.argsort(d) if np.isfinite(d[j])] or [int(i)]
        closed = next((j for j in closed_order if abs(j - i) > gap), closed_order[0])
        for c in range(k + 1):
            j = order[min(c, len(order) - 1)] if c < k else closed
            src = (bank.lips[j], bank.jaw[j], bank.nose[j])
            warped = reshape_crop(bank.crops[j], bank.geometry, src, bank.lips[i],
                                  frame=(bank.lips[i], bank.jaw[i], bank.nose[i]), teeth_rgb=teeth)
            out[row, c] = I.to_model(warped, size, scale)
    return out
