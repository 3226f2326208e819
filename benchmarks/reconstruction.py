#!/usr/bin/env python
"""Reconstruction benchmark: how close does a dubbed clip come to the real one?

For every clip in ``$PODIUM_SHARED/footage`` that has speech: build an avatar from
the first 60 % of the clip, then dub the last 40 % with that part's own audio
(phone timings from the audio alone: the en-us recogniser's words force-aligned, no transcript) and
compare with the real frames. Renderers compared in the same run:

* ``warp``   - the training-free renderer (real mouths from the first 60 %),
* ``neural`` - the per-avatar trained renderer (when ``lipsync.neural`` is present),
* ``frozen`` - baseline: the real last 40 % with the mouth held closed,
* ``oracle`` - not a renderer but an upper bound: the warp renderer drawing the
  openness and spread *measured on the real frames* (their lip gap and width), so
  its scores show what the renderer gives with perfect timing, and the distance
  between ``oracle`` and ``warp`` is what the phone timings lose.

The renderers never see the real mouth of the test part: the warp renderer draws
from the bank of the training part, the neural one gets the frame with the lower
face masked, and only the soft edge of the paste mask (cheeks) sets the colour match.

Metrics (MediaPipe on output and real frames, see ``lipsync/metrics.py``):
M-LMD (% of inter-ocular distance, lower is better), aperture correlation
(Pearson r of the 13-14 gap, higher is better), mouth sharpness ratio (variance of
the Laplacian of the mouth box, output / real), training seconds, render frames
per second (tracking the input included) and peak memory (VmHWM of a fresh process).

Run: ``.venv/bin/python benchmarks/reconstruction.py [--clips presenter_a ...] [--no-neural]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from podium.avatars.landmarks import canonical_lips
from podium.common.media import probe, read_frames, run_ffmpeg
from podium.lipsync.metrics import measure, score

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PODIUM_SHARED", ROOT.parent / "shared"))
TRAIN_FRACTION = 0.6
#: The shared presenter clips are English; a user states the language of a recording
#: (``--language``), which selects recognition + forced alignment over the phone loop.
LANGUAGE = "en-us"

# Each dub runs in a fresh interpreter (benchmarks/_reconstruction_child.py) so that its
# peak memory is its own, not this process's.
CHILD = Path(__file__).with_name("_reconstruction_child.py")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def split_clip(clip: Path, work: Path) -> tuple[Path, Path, float]:
    info = probe(clip)
    cut = round(info.duration * TRAIN_FRACTION, 2)
    train, test = work / f"{clip.stem}_train.mp4", work / f"{clip.stem}_test.mp4"
    common = ["-c:v", "libx264", "-crf", "12", "-preset", "veryfast", "-pix_fmt", "yuv420p",
              "-c:a", "aac", "-b:a", "192k"]
    run_ffmpeg(["-i", str(clip), "-t", f"{cut}", *common, str(train)])
    run_ffmpeg(["-ss", f"{cut}", "-i", str(clip), *common, str(test)])
    return train, test, cut


def run_method(home: Path, name: str, test: Path, out: Path, method: str, *, fps: float,
               real_lips: Path) -> dict:
    """Dub ``test`` with one method in a fresh process; returns its JSON line (frames, wall, peak_mb)."""
    # The frozen baseline and the oracle are the warp renderer with a different mouth.
    renderer = "warp" if method in ("frozen", "oracle") else method
    args = json.dumps({"home": str(home), "name": name, "test": str(test), "out": str(out),
                       "method": method, "renderer": renderer, "language": LANGUAGE,
                       "fps": float(fps), "real_lips": str(real_lips)})
    proc = subprocess.run([sys.executable, str(CHILD), args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{method} on {name} failed: {proc.stderr.strip()[-600:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(headers, rows) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    from podium.avatars import AvatarLibrary, create_from_footage
    from podium.avatars.quality import FootageLimits

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", nargs="*", help="clip names (default: all with audio)")
    ap.add_argument("--no-neural", action="store_true", help="skip the neural renderer")
    ap.add_argument("--train-minutes", type=float, default=None, help="neural training budget")
    ap.add_argument("--train-steps", type=int, default=None, help="neural training steps (default: the model's)")
    ap.add_argument("--keep", type=Path, help="keep avatars and videos here")
    args = ap.parse_args(argv)
    clips = sorted((SHARED / "footage").glob("*.mp4"))
    clips = [c for c in clips if probe(c).has_audio and (not args.clips or c.stem in args.clips)]
    if not clips:
        log(f"no clips with audio in {SHARED / 'footage'}")
        return 2
    methods = ["frozen", "warp", "oracle"]
    try:
        import podium.lipsync.neural  # noqa: F401

        if not args.no_neural:
            methods.append("neural")
    except ImportError:
        log("lipsync.neural not available: neural renderer skipped")
    work = Path(args.keep or tempfile.mkdtemp(prefix="podium-recon-"))
    work.mkdir(parents=True, exist_ok=True)
    lib = AvatarLibrary(work / "home")
    rows, per_method = [], {m: [] for m in methods}
    for clip in clips:
        log(f"{clip.name}: splitting")
        train, test, cut = split_clip(clip, work)
        name = clip.stem.replace("_", "-")
        # The shortest clips leave under 3 s for training: relax the minimum for this
        # experiment only (users still need 3 s).
        record = lib.get(name) if lib.exists(name) else create_from_footage(
            lib, name, train, consent="bench", limits=FootageLimits(min_duration=1.5))
        create_s = float(record.manifest.build_seconds)
        train_s = {"frozen": 0.0, "warp": create_s, "oracle": create_s}
        if "neural" in methods:
            from podium.lipsync.neural import train_renderer

            log(f"{clip.name}: training the neural renderer")
            t = time.perf_counter()
            train_renderer(record, minutes=args.train_minutes, steps=args.train_steps)
            train_s["neural"] = create_s + time.perf_counter() - t
            lib.update_manifest(name, lambda m: m.with_parts(renderer="parts/renderer"))
        fps = probe(test).fps
        real = measure(read_frames(test, fps=fps))
        real_lips = work / f"{clip.stem}_real_lips.npy"
        np.save(real_lips, canonical_lips(real.points))
        for method in methods:
            log(f"{clip.name}: {method}")
            out = work / f"{clip.stem}_{method}.mp4"
            run = run_method(work / "home", name, test, out, method, fps=fps, real_lips=real_lips)
            scores = score(measure(read_frames(out), boxes_from=real.points), real)
            row = [clip.stem, method, *scores.as_row(), round(scores.sharpness_error, 3), round(train_s[method], 1),
                   round(run["frames"] / run["wall"], 1), round(run["peak_mb"])]
            rows.append(row)
            per_method[method].append(row)
    headers = ["clip", "renderer", "M-LMD %IOD ↓", "aperture r ↑", "sharpness ratio", "sharpness off ↓", "train s",
               "render fps", "peak MB"]
    print("# Reconstruction benchmark (train on first 60 %, dub last 40 % from its own audio)\n")
    print(table(headers, rows))
    print("\n## Averages over clips\n")
    avg = []
    for method, mrows in per_method.items():
        cols = np.array([r[2:] for r in mrows], float)
        avg.append([method, *np.round(cols.mean(0), 3).tolist()])
    print(table(headers[1:], avg))
    print()
    print(verdict({row[0]: row[1:5] for row in avg}))
    return 0


def verdict(avg: dict[str, list[float]]) -> str:
    """Plain-language checks of the averages: the baseline must lose, the targets of issue 3.

    ``avg`` maps a renderer to its averages over clips: M-LMD, aperture r, sharpness
    ratio and sharpness off (mean per-clip ``|ln ratio|``). Which mouth is nearer the
    real one's sharpness is judged by the last: the average of the ratios lets a clip
    rendered too soft and one rendered too crisp cancel out (a shut mouth has less
    detail than an open one with teeth, so the frozen baseline's ratio swings both
    ways and its average lands near 1 although no clip is).
    """
    frozen = avg["frozen"]
    lines = ["## Checks\n"]
    for method in [m for m in avg if m not in ("frozen", "oracle")]:
        m_lmd, r, sharp, off = avg[method]
        beats = m_lmd < frozen[0] and r > frozen[1] and off < frozen[3]
        lines.append(f"- the frozen baseline loses to {method} on all three: {'yes' if beats else 'NO'}")
        lines.append(f"- {method}: M-LMD {m_lmd / frozen[0]:.2f} x frozen (target <= 0.6), "
                     f"aperture r {r:.2f} (target >= 0.6), sharpness {sharp:.2f} (target >= 0.85), "
                     f"off by {off:.3f} (frozen {frozen[3]:.3f})")
    if "neural" in avg and "warp" in avg:
        (n_lmd, n_r, _, n_off), (w_lmd, w_r, _, w_off) = avg["neural"], avg["warp"]
        level = n_lmd <= w_lmd and n_r >= w_r and n_off <= w_off
        lines.append(f"- neural no worse than warp on all three: {'yes' if level else 'NO'}")
    if "oracle" in avg:
        m_lmd, r, _, _ = avg["oracle"]
        lines.append(f"- with the real frames' lip gap and width (oracle): M-LMD {m_lmd / frozen[0]:.2f} x "
                     f"frozen, aperture r {r:.2f}: the renderer's own limit")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
