"""Evaluation of a trained neural lip renderer on bank crops (reconstruction, sharpness)."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import torch

from podium.avatars.bank import MouthBank
from podium.lipsync.neural.data import PairSource
from podium.lipsync.neural.model import LipGenerator
from podium.lipsync.neural.settings import TrainSettings


def evaluate(model: LipGenerator, bank: MouthBank, indices: Sequence[int], *, source: int = 0) -> dict:
    """Reconstruction of bank crops from their own landmarks (no augmentation).

    ``source`` 0 warps each crop's nearest other mouth; -1 its most closed one (painted).
    Returns mean L1 (0-255 scale) inside the mouth region and the ratio of the
    Laplacian variance in the lips' bounding box, reconstruction / real (1 = as sharp),
    for the network and for its aligned source alone (the warp renderer's result).
    """
    cfg = model.config
    data = PairSource(bank, cfg, n_real=len(bank), include=list(indices), settings=TrainSettings())
    dev = next(model.parameters()).device
    l1s, ratios, wl1s, wratios = [], [], [], []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(indices), 8):
            idx = np.arange(start, min(start + 8, len(indices)))
            target, aligned, maps, mouth, _, _ = data.sample(None, len(idx), augment=False, idx=idx,
                                                             source=source)
            out = model(target.to(dev), maps.to(dev), aligned.to(dev)).clamp(-1, 1).cpu()
            for k, j in enumerate(idx):
                to_img = lambda t: ((t.permute(1, 2, 0) + 1) * 127.5).numpy()
                real, fake_f, warp = to_img(target[k]), to_img(out[k]), data.aligned[j, source]
                fake = np.clip(fake_f.round(), 0, 255).astype(np.uint8)
                m = mouth[k, 0].numpy() > 0
                l1s.append(float(np.abs(real - fake_f)[m].mean()))
                ratios.append(sharpness_ratio(fake, data.images[j], data.lips[j]))
                wl1s.append(float(np.abs(real - warp)[m].mean()))
                wratios.append(sharpness_ratio(warp, data.images[j], data.lips[j]))
    return {"l1_mouth": float(np.mean(l1s)), "sharpness": float(np.mean(ratios)),
            "warp_l1_mouth": float(np.mean(wl1s)), "warp_sharpness": float(np.mean(wratios))}


def sharpness_ratio(img: np.ndarray, ref: np.ndarray, lips_px: np.ndarray, margin: int = 4) -> float:
    """Variance of the Laplacian (grey) of ``img`` / ``ref`` in the lips' bounding box."""
    x0, y0 = np.floor(lips_px.min(0)).astype(int) - margin
    x1, y1 = np.ceil(lips_px.max(0)).astype(int) + margin
    x0, y0 = max(x0, 0), max(y0, 0)
    lap = lambda a: cv2.Laplacian(cv2.cvtColor(np.ascontiguousarray(a[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
                                  .astype(np.float64), cv2.CV_64F).var()
    return float(lap(img) / max(lap(ref), 1e-6))
