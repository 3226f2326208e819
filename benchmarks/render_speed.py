#!/usr/bin/env python
"""Podium benchmark: avatar creation, render speed and render peak memory, each next to a baseline.

Run from the project root::

    .venv/bin/python benchmarks/render_speed.py              # all clips (~3-5 min on 2 cores)
    .venv/bin/python benchmarks/render_speed.py --quick      # one clip, short scripts (smoke run)
    .venv/bin/python benchmarks/render_speed.py --clips presenter_a presenter_c

Markdown tables go to stdout, progress notes to stderr. See benchmarks/README.md for
what each column means. Footage is read in place from ``$PODIUM_SHARED/footage`` (default
``../shared/footage``); avatars and videos go to a temporary folder that is deleted at the
end unless ``--keep DIR`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from podium import speech
from podium.avatars import AVATAR_FPS, AvatarLibrary, create_from_footage, create_from_photo
from podium.avatars.create import MAX_SIDE
from podium.avatars.tracking import FaceTracker, track
from podium.common.media import VideoWriter, probe, read_frames
from podium.lipsync import RenderOptions, render_script
from podium.lipsync.loaded_avatar import load_avatar
from podium.speech import FAST_VOICE

ROOT = Path(__file__).resolve().parent.parent

SHARED = Path(os.environ.get("PODIUM_SHARED", ROOT.parent / "shared"))
FOOTAGE_DIR = SHARED / "footage"
PORTRAIT = ROOT / "samples" / "portrait.jpg"
HD = (1280, 720)
PAD_S = 0.75  # silence render_script adds around the speech (pipeline.pad_utterance)

# Plain English, cycled to the needed number of words.
_SENTENCES = [
    "Welcome to this short update from the product team.",
    "Today we want to walk you through the changes we made over the last few weeks.",
    "First, the new dashboard loads much faster and shows your most recent projects at the top.",
    "Second, you can now share a report with a single link, and decide who may edit it.",
    "We also listened to your feedback about notifications, so there are fewer of them.",
    "If something looks wrong, please tell us, because every message is read by a person.",
    "Next month we will bring the same improvements to the mobile app.",
    "Thank you for being with us, and have a wonderful rest of your day.",
]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- scripts

def make_text(n_words: int) -> str:
    words = []
    i = 0
    while len(words) < n_words:
        words += _SENTENCES[i % len(_SENTENCES)].split()
        i += 1
    words = words[:max(n_words, 3)]
    text = " ".join(words).rstrip(",.")
    return text + "."


_script_cache: dict[float, tuple[str, float]] = {}


def script_for(seconds: float) -> tuple[str, float]:
    """English text whose rendered video (speech plus lead-in/out) lasts about ``seconds``.

    espeak speaks ~2.5-3 words/s; the word count is calibrated with two quick syntheses.
    Returns the text and the predicted video duration.
    """
    if seconds in _script_cache:
        return _script_cache[seconds]
    target = max(seconds - PAD_S, 1.0)
    n = max(3, round(target * 2.7))
    for _ in range(3):
        text = make_text(n)
        dur = speech.synthesize(text).duration
        if abs(dur - target) < 0.06 * target:
            break
        n = max(3, round(n * target / dur))
    text = make_text(n)
    dur = speech.synthesize(text).duration + PAD_S
    _script_cache[seconds] = (text, dur)
    return text, dur


# --------------------------------------------------------------------------- helpers

def machine_lines() -> list[str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10).stdout.strip() or "?"
        dirty = subprocess.run(["git", "--no-optional-locks", "status", "--porcelain",
                                "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True,
                               timeout=10).stdout.strip()
        rev += " (+ uncommitted changes)" if dirty else ""
    except (OSError, subprocess.SubprocessError):
        rev = "?"
    return [
        f"- Date: {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- Machine: {os.cpu_count()} CPUs, {model}, {mem} RAM, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, OpenCV {cv2.__version__}, NumPy {np.__version__}",
        f"- Podium commit: {rev}",
        f"- Load average at start: {load_avg()} (other work on the machine skews timings)",
    ]


def load_avg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def table(headers: list[str], rows: list[list]) -> str:
    def cell(v):
        return str(v).replace("|", "\\|")
    def numeric(i):  # right-align columns that hold only numbers (and dashes)
        vals = [str(r[i]) for r in rows if i < len(r)]
        return bool(vals) and all(re.fullmatch(r"[-−—+]?[\d.]+x?|—", v) for v in vals)
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---:" if numeric(i) else "---" for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(out)


def avatar_name(stem: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]", "_", stem)[:60]
    return name if name[0].isalnum() else "a" + name


def even(size) -> tuple[int, int]:
    w, h = int(size[0]), int(size[1])
    return w - w % 2, h - h % 2


def fit(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Same scale-to-cover + centre-crop as the pipeline's resize."""
    w, h = size
    fh, fw = frame.shape[:2]
    if (fw, fh) == (w, h):
        return frame
    s = max(w / fw, h / fh)
    scaled = cv2.resize(frame, (max(w, round(fw * s)), max(h, round(fh * s))),
                        interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    y0 = (scaled.shape[0] - h) // 2
    x0 = (scaled.shape[1] - w) // 2
    return np.ascontiguousarray(scaled[y0:y0 + h, x0:x0 + w])


def check_video(path: Path, size: tuple[int, int], frames: int, duration: float) -> str:
    """Cheap sanity check of a rendered file: size, codec, audio, duration."""
    issues = []
    try:
        info = probe(path)
    except Exception as exc:  # noqa: BLE001
        return f"unreadable ({exc})"
    if (info.width, info.height) != tuple(size):
        issues.append(f"size {info.width}x{info.height}")
    if info.video_codec != "h264":
        issues.append(f"codec {info.video_codec}")
    if not info.has_audio:
        issues.append("no audio")
    if abs(info.duration - frames / AVATAR_FPS) > 0.25:
        issues.append(f"file {info.duration:.2f}s vs {frames / AVATAR_FPS:.2f}s of frames")
    if abs(frames / AVATAR_FPS - duration) > 0.1:
        issues.append(f"frames {frames} vs speech {duration:.2f}s")
    return "ok" if not issues else "; ".join(issues)


def f(v, nd=2) -> str:
    return "—" if v is None else f"{v:.{nd}f}"


# --------------------------------------------------------------------------- 1. creation

def bench_creation(lib: AvatarLibrary, clips: list[Path], with_photo: bool):
    rows, records = [], {}
    for clip in clips:
        name = avatar_name(clip.stem)
        log(f"creation: {clip.name} (baseline decode + track)")
        try:
            t = time.perf_counter()
            tracks = track(read_frames(clip, fps=AVATAR_FPS, max_side=MAX_SIDE))
            base_s = time.perf_counter() - t
            n_frames = len(tracks.face_count)
        except Exception as exc:  # noqa: BLE001
            rows.append([clip.name, "—", "—", "—", "—", "—", "—", "—", f"baseline failed: {exc}"])
            continue
        log(f"creation: {clip.name} (create_from_footage)")
        try:
            t = time.perf_counter()
            rec = create_from_footage(lib, name, clip, consent="Bench")
            create_s = time.perf_counter() - t
        except Exception as exc:  # noqa: BLE001
            rows.append([clip.name, "—", "—", n_frames, f(base_s), "—", "—", "—",
                         f"FAILED: {type(exc).__name__}: {exc}"])
            continue
        records[clip.name] = rec
        m = rec.manifest
        dur = float(m.source.duration_s)
        note = []
        if m.quality.get("synthetic_mouths"):
            note.append("synthetic mouths")
        note.append(f"bank {m.bank_size}")
        rows.append([clip.name, "x".join(map(str, m.frame_size)), f(dur, 2), n_frames, f(base_s),
                     f(create_s), f(create_s / dur), f(base_s / dur), f"{create_s / base_s:.2f}x",
                     ", ".join(note)])
    if with_photo:
        log(f"creation: {PORTRAIT.name} (photo)")
        img = cv2.cvtColor(cv2.imread(str(PORTRAIT)), cv2.COLOR_BGR2RGB)
        t = time.perf_counter()
        with FaceTracker(static=True) as tracker:
            tracker.detect(img)
        base_s = time.perf_counter() - t
        try:
            t = time.perf_counter()
            rec = create_from_photo(lib, "photo_portrait", PORTRAIT, consent="Bench")
            create_s = time.perf_counter() - t
            records[PORTRAIT.name] = rec
            rows.append([PORTRAIT.name + " (photo)", "x".join(map(str, rec.manifest.frame_size)),
                         "—", 1, f(base_s), f(create_s), "—", "—", f"{create_s / base_s:.2f}x",
                         f"bank {rec.manifest.bank_size}; baseline = one static detect"])
        except Exception as exc:  # noqa: BLE001
            rows.append([PORTRAIT.name + " (photo)", "—", "—", 1, f(base_s), "—", "—", "—", "—",
                         f"FAILED: {type(exc).__name__}: {exc}"])
    headers = ["source", "avatar size", "footage s", "frames", "baseline s (decode+track)",
               "creation s", "creation s / footage s", "baseline s / footage s",
               "creation / baseline", "notes"]
    return table(headers, rows), records


# --------------------------------------------------------------------------- 2. render speed

def encode_only(record, size: tuple[int, int], n_frames: int, out: Path) -> float:
    """Baseline: the same number of base-loop frames straight into VideoWriter (no lip sync,
    no audio). Loading and resizing the loop happen before the clock starts."""
    avatar = load_avatar(record)
    loop = [fit(fr, size) for fr in avatar.frames]
    opts = RenderOptions()
    t = time.perf_counter()
    writer = VideoWriter(out, size=size, fps=avatar.fps, crf=opts.crf, preset=opts.preset)
    for k in range(n_frames):
        writer.write(loop[avatar.loop_index(k)])
    writer.close()
    return time.perf_counter() - t


def bench_render(records: dict, seconds: float, work: Path):
    text, _ = script_for(seconds)
    rows = []
    for label, rec in records.items():
        own = even(rec.manifest.frame_size)
        for size_label, size in (("own", None), ("1280x720", HD)):
            out_size = own if size is None else size
            stem = f"{rec.name}_{out_size[0]}x{out_size[1]}"
            log(f"render: {label} at {out_size[0]}x{out_size[1]}")
            try:
                t = time.perf_counter()
                # espeak-ng: the video pipeline's speed, not the voice's (Kokoro adds
                # 0.2-0.7 s of synthesis per second of speech; see benchmarks/voices.py).
                res = render_script(rec, text, work / f"{stem}.mp4",
                                    options=RenderOptions(size=size, voice=FAST_VOICE))
                wall = time.perf_counter() - t
            except Exception as exc:  # noqa: BLE001
                rows.append([label, f"{out_size[0]}x{out_size[1]}", "—", "—", "—", "—", "—", "—", "—",
                             f"FAILED: {type(exc).__name__}: {exc}"])
                continue
            check = check_video(res.video, out_size, res.frames, res.duration)
            base = encode_only(rec, out_size, res.frames, work / f"{stem}_encode_only.mp4")
            rows.append([label, f"{out_size[0]}x{out_size[1]}", res.frames, f(res.duration),
                         f(wall), f(res.frames / wall, 1), f"{res.duration / wall:.1f}x",
                         f(res.frames / base, 1), f"{wall / base:.2f}x", check])
    headers = ["avatar", "output size", "frames", "video s", "render wall s", "render fps",
               "x real time", "baseline fps (encode only)", "render / baseline time", "output check"]
    return table(headers, rows)


# --------------------------------------------------------------------------- 3. peak memory

# Each render of the memory table runs in a fresh process (benchmarks/_render_child.py),
# so that its peak memory is its own and not this process's; see that file for why it forks.
CHILD = Path(__file__).with_name("_render_child.py")


def run_child(home: Path, name: str, script: str, out: Path, mode: str) -> dict:
    """One render in a fresh process; returns its JSON line (maxrss_mb, frames, duration, wall)."""
    args = json.dumps({"home": str(home), "name": name, "script": script, "out": str(out), "mode": mode})
    proc = subprocess.run([sys.executable, str(CHILD), args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-2:])
        raise RuntimeError(f"child exited {proc.returncode}: {tail[-200:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_memory(lib: AvatarLibrary, records: dict, lengths: list[float], work: Path):
    rows = []
    for label, rec in records.items():
        size = "x".join(map(str, even(rec.manifest.frame_size)))
        for seconds in lengths:
            text, _ = script_for(seconds)
            res = {}
            for mode in ("stream", "buffered"):
                log(f"memory: {label}, {seconds:g} s script, {mode}")
                try:
                    res[mode] = run_child(lib.home, rec.name, text,
                                          work / f"mem_{rec.name}_{seconds:g}s_{mode}.mp4", mode)
                except Exception as exc:  # noqa: BLE001
                    res[mode] = {"error": str(exc)}
            s, b = res["stream"], res["buffered"]
            ok = "error" not in s and "error" not in b
            ref = s if "error" not in s else b
            frames = ref.get("frames", "—")
            dur = f(ref.get("duration")) if "duration" in ref else "—"
            rows.append([
                label, size, dur, frames,
                f(s.get("maxrss_mb"), 0), f(b.get("maxrss_mb"), 0),
                f(b["maxrss_mb"] - s["maxrss_mb"], 0) if ok else "—",
                f(s.get("wall"), 1), f(b.get("wall"), 1),
                "; ".join(f"{k}: {v['error']}" for k, v in res.items() if "error" in v) or "ok",
            ])
    headers = ["avatar", "size", "video s", "frames", "streaming MB (ours)", "buffered MB (baseline)",
               "buffered − streaming MB", "streaming wall s", "buffered wall s",
               "status"]
    return table(headers, rows)


# --------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", nargs="+", metavar="NAME",
                    help="clip names in the footage folder (stem or file name), default: all")
    ap.add_argument("--quick", action="store_true", help="one clip, short scripts (smoke run)")
    ap.add_argument("--keep", metavar="DIR", type=Path,
                    help="keep avatars and rendered videos in DIR (must not exist or be empty)")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    available = sorted(FOOTAGE_DIR.glob("*.mp4")) if FOOTAGE_DIR.is_dir() else []
    if args.clips:
        by_name = {p.stem: p for p in available} | {p.name: p for p in available}
        missing = [c for c in args.clips if c not in by_name]
        if missing:
            ap.error(f"unknown clip(s) {missing}; available: {[p.stem for p in available]}")
        clips = list(dict.fromkeys(by_name[c] for c in args.clips))
    else:
        clips = available
    if args.quick:
        clips = clips[:1]
    if not clips:
        print(f"no footage found in {FOOTAGE_DIR}; set PODIUM_SHARED", file=sys.stderr)
        return 2

    render_s = 4.0 if args.quick else 10.0
    mem_lengths = [4.0, 12.0] if args.quick else [10.0, 60.0]

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        tmp_ctx = None
        work = args.keep.resolve()
    else:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="podium-bench-")
        work = Path(tmp_ctx.name)
    try:
        lib = AvatarLibrary(work / "home")
        print("# Podium render-speed benchmark" + (" (quick)" if args.quick else ""))
        print()
        print("\n".join(machine_lines()))
        print(f"- Clips: {', '.join(c.name for c in clips)} (from {FOOTAGE_DIR})")
        print(flush=True)

        log("calibrating scripts")
        lines = []
        for s in sorted({render_s, *mem_lengths}):
            text, dur = script_for(s)
            lines.append(f"- ~{s:g} s script: {len(text.split())} words -> {dur:.2f} s of video "
                         "(espeak, en-us, incl. 0.75 s lead-in/out)")

        print("## 1. Avatar creation (wall seconds)")
        print()
        print("Baseline = decode at 25 fps (long side <= 1280) + MediaPipe face tracking alone, "
              "same clip: the floor the rest of creation adds to.")
        print()
        t1, records = bench_creation(lib, clips, with_photo=True)
        print(t1)
        print(flush=True)

        print(f"## 2. Render speed (~{render_s:g} s script, frames / wall s of render_script, "
              "encoding included)")
        print()
        print("Baseline = the same number of base-loop frames encoded straight to H.264 "
              "(VideoWriter, crf 20, veryfast, no lip sync, no audio), same size.")
        print()
        print("\n".join(lines))
        print()
        print(bench_render(records, render_s, work))
        print(flush=True)

        print("## 3. Peak memory of a whole render (max RSS of a fresh child process, MB)")
        print()
        print("Ours = render_script (frames streamed to ffmpeg). Baseline = the same render with "
              "every frame kept in a list before encoding. Avatar's own size. "
              "The ffmpeg encoder process is not included (same in both).")
        print()
        mem_records = {}
        if PORTRAIT.name in records:
            mem_records[PORTRAIT.name + " (photo)"] = records[PORTRAIT.name]
        first_clip = next((c.name for c in clips if c.name in records), None)
        if first_clip:
            mem_records[first_clip] = records[first_clip]
        print(bench_memory(lib, mem_records, mem_lengths, work))
        print()
        print(f"Total benchmark time: {time.perf_counter() - started:.0f} s; "
              f"load average at end: {load_avg()}")
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
