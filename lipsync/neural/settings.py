"""Hyper-parameters of a training run of the neural lip renderer.

Kept apart from the loop (:mod:`podium.lipsync.neural.train`) because the data
(:mod:`~podium.lipsync.neural.data`), the evaluation and the loop all read them,
and none of those may import the loop.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainSettings:
    """Hyper-parameters (stored in the checkpoint; a resumed run keeps them)."""

    batch: int = 8
    lr: float = 1e-3
    beta1: float = 0.9
    lr_final: float = 0.05          # fraction of lr at the end (cosine)
    warmup: int = 20
    mouth_weight: float = 4.0       # extra L1 weight around the lips
    l1_weight: float = 1.0          # L1 at full resolution
    grad_weight: float = 0.75       # L1 of image gradients
    blur_sigma: float = 1.5         # Gaussian separating coarse from fine detail, pixels
    low_weight: float = 0.0         # L1 of the blurred images (coarse correctness; 0: off)
    detail_weight: float = 0.75     # L1 of the fine detail against the aligned source's (keeps it sharp)
    adv_weight: float = 0.05        # generator hinge loss
    adv_start: float = 0.3          # fraction of the run before the discriminator joins
    d_lr: float = 2e-4
    shift: float = 0.035            # max pair shift, inter-ocular units (whole pixels)
    scale_prob: float = 0.2         # share of pairs also scaled/rotated (resampled)
    scale: float = 0.05
    synthetic_weight: float = 0.35  # sampling weight of painted-mouth crops vs real ones
    sources: int = 2                # nearest other mouths each crop is warped from
    closed_source: float = 0.3      # share of pairs whose source is the most closed mouth instead
                                    # (opened by the warp, inner mouth painted: teaches painted -> real)
    source_gap: int = 3             # bank neighbours (in time) never used as a crop's source
    checkpoint_every: int = 50
    seed: int = 0
