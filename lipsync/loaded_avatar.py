"""A stored avatar loaded for rendering: base loop frames in memory plus its models."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

import numpy as np

from podium.avatars.bank import MouthBank, landmark_sets
from podium.avatars.landmarks import apply
from podium.avatars.library import AvatarRecord
from podium.avatars.mouth import MouthModel
from podium.common.errors import AvatarDamaged, PodiumError
from podium.common.media import read_frames


@dataclass(frozen=True)
class LoadedAvatar:
    """Everything rendering needs.

    Attributes
    ----------
    record : AvatarRecord
        Manifest and folder.
    frames : list of np.ndarray
        Base loop, uint8 (H, W, 3) each (at most a few seconds, so memory is bounded).
    frame_to_canon : np.ndarray
        float32 (n_loop, 2, 3), canonical transform of each loop frame.
    frame_marks : list of tuple
        Per loop frame, (lips (40, 2), jaw (21, 2), nose (5, 2)) in canonical units.
    model : MouthModel
    bank : MouthBank
    """

    record: AvatarRecord
    frames: list
    frame_to_canon: np.ndarray
    frame_marks: list
    model: MouthModel
    bank: MouthBank

    @property
    def fps(self) -> float:
        return float(self.record.manifest.fps)

    @property
    def size(self) -> tuple[int, int]:
        w, h = self.record.manifest.frame_size
        return int(w), int(h)

    def loop_index(self, k: int) -> int:
        """Base-loop frame shown at output frame ``k`` (ping-pong or cycle)."""
        n = len(self.frames)
        if n == 1:
            return 0
        if self.record.manifest.loop.mode == "pingpong":
            period = 2 * n - 2
            j = k % period
            return j if j < n else period - j
        return k % n


def load_avatar(record: AvatarRecord) -> LoadedAvatar:
    """Read an avatar's parts; AvatarDamaged if any part is missing or corrupt."""
    try:
        frames = list(read_frames(record.part("base_loop")))
        with np.load(record.part("base_tracks"), allow_pickle=False) as d:
            transforms = d["frame_to_canon"].astype(np.float64)
            points = d["points"].astype(np.float64)
        model = MouthModel.load(record.part("mouth_model"))
        bank = MouthBank.load(record.part("mouth_bank"))
    except (PodiumError, OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        # One line whatever broke (ffmpeg's own report of a damaged video runs to many).
        why = " ".join(str(exc).split("===")[0].split())
        why = why if len(why) <= 160 else why[:159] + "…"
        raise AvatarDamaged(f"avatar '{record.name}' is damaged ({why}); delete it and re-create "
                            "it") from exc
    n = min(len(frames), len(transforms))
    if n == 0:
        raise AvatarDamaged(f"avatar '{record.name}' has an empty base loop; delete it and re-create it")
    marks = [landmark_sets(apply(transforms[i], points[i])) for i in range(n)]
    return LoadedAvatar(record, frames[:n], transforms[:n], marks, model, bank)
