#!/usr/bin/env python
"""One dub of the test part in a fresh process, for ``reconstruction.py``.

``reconstruction.py`` runs this file by path with one JSON argument::

    python benchmarks/_reconstruction_child.py '{"home": ..., "name": ..., "test": ...,
        "out": ..., "method": "frozen" | "warp" | "oracle" | "neural",
        "renderer": "warp" | "neural", "language": "en-us", "fps": 25.0,
        "real_lips": ".../<clip>_real_lips.npy"}'

and reads the last line of stdout, a JSON object::

    {"frames": <n>, "wall": <render seconds>, "peak_mb": <VmHWM of this process, MB>}

It runs in a process of its own so that its peak memory is its own: VmHWM (the high-water
mark of resident memory) belongs to the address space, which ``execve`` replaces, so a fresh
interpreter starts from nothing. Only the standard library is imported at module level; the
heavy imports count towards the peak as they would in a user's process.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace


def peak_mb() -> float:
    """VmHWM of this process in MB (the kernel reports kB)."""
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM"))
    return int(hwm.split()[1]) / 1024


def measured_mouth(rec, real_lips: str, fps: float):
    """The ``oracle`` mouth: openness and spread measured on the real frames' lips.

    Frames where MediaPipe found no face (NaN lips) get a closed mouth.
    """
    import numpy as np

    from podium.avatars.mouth import MouthModel
    from podium.lipsync.coarticulation import MouthTrack

    real = np.load(real_lips)
    ok = ~np.isnan(real[:, 0, 0])
    openness, spread = MouthModel.load(rec.part("mouth_model")).targets(np.nan_to_num(real))
    return MouthTrack(np.where(ok, openness, 0.0), np.where(ok, spread, 0.0), fps)


def run(args: dict) -> dict:
    """Align the test audio, prepare the method's mouth, time ``dub_video``."""
    from podium.avatars import AvatarLibrary
    from podium.lipsync import RenderOptions
    from podium.lipsync.dubbing import dub_video
    from podium.speech.align import align_recording

    rec = AvatarLibrary(args["home"]).get(args["name"])

    # 1. Phone timings from the test part's own audio (recognised words, force-aligned).
    utt = align_recording(args["test"], language=args["language"])

    # 2. The method's mouth: no phones for the frozen baseline, the measured lips for the oracle.
    mouth = None
    if args["method"] == "frozen":
        utt = replace(utt, phonemes=())
    elif args["method"] == "oracle":
        mouth = measured_mouth(rec, args["real_lips"], float(args["fps"]))

    # 3. The dub itself; only this is timed (tracking the input video included).
    t = time.perf_counter()
    res = dub_video(rec, args["test"], utt, args["out"],
                    options=RenderOptions(renderer=args["renderer"]), mouth=mouth)
    wall = time.perf_counter() - t
    return {"frames": res.frames, "wall": wall, "peak_mb": peak_mb()}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(run(json.loads(argv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
