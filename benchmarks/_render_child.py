#!/usr/bin/env python
"""One render in a fresh process, for the peak-memory table of ``render_speed.py``.

``render_speed.py`` runs this file by path with one JSON argument::

    python benchmarks/_render_child.py '{"home": ..., "name": ..., "script": ...,
                                         "out": ..., "mode": "stream" | "buffered"}'

and reads the last line of stdout, a JSON object::

    {"maxrss_mb": <peak RSS of the render, MB>, "frames": <n>, "duration": <s>, "wall": <s>}

Modes:

* ``stream``   - ``render_script`` as users run it (frames streamed to ffmpeg),
* ``buffered`` - baseline: the same render with every frame kept in a list, encoded at the end.

Why a fork: Linux keeps ``ru_maxrss`` across ``execve``, so this process, spawned from the
(large) benchmark, would report the benchmark's peak. It therefore forks once at start-up,
before importing anything heavy: the grandchild gets a fresh rusage and a small address
space, runs the render and reports its own peak. Only the standard library is imported at
module level for the same reason.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path


def render_stream(rec, script: str, out: Path) -> tuple[int, float]:
    """``render_script`` with the fast espeak voice; returns (frames, video seconds)."""
    from podium.lipsync import render_script
    from podium.lipsync.pipeline import RenderOptions
    from podium.speech import FAST_VOICE

    res = render_script(rec, script, out, options=RenderOptions(voice=FAST_VOICE))
    return res.frames, res.duration


def render_buffered(rec, script: str, out: Path) -> tuple[int, float]:
    """The naive variant: render every frame into a list, then encode them all.

    Mirrors what ``render_script`` does (same speech, mouth track, size, encoder settings,
    captions) so that the only difference in peak memory is the frame list.
    """
    from podium import speech
    from podium.common.media import VideoWriter
    from podium.lipsync.captions import make_cues, write_srt, write_vtt
    from podium.lipsync.coarticulation import mouth_track
    from podium.lipsync.loaded_avatar import load_avatar
    from podium.lipsync.pipeline import RenderOptions, pad_utterance, render_frames

    # 1. Speech, avatar and mouth track, as the pipeline prepares them.
    opts = RenderOptions()
    utt = pad_utterance(speech.synthesize(script, voice=speech.FAST_VOICE))
    avatar = load_avatar(rec)
    track = mouth_track(utt.phonemes, utt.duration, fps=avatar.fps)
    w, h = avatar.size
    size = (w - w % 2, h - h % 2)  # H.264 wants even sides

    # 2. Render every frame into memory instead of into the encoder.
    class ListWriter:
        def __init__(self):
            self.frames = []

        def write(self, frame):
            self.frames.append(frame)

    buf = ListWriter()
    frames = render_frames(avatar, track, buf, size=size)

    # 3. Encode the list with the audio, and write the captions, as render_script does.
    wav = out.with_suffix(".wav")
    utt.write_wav(wav)
    writer = VideoWriter(out, size=size, fps=avatar.fps, audio=wav, crf=opts.crf,
                         preset=opts.preset, loudness=opts.loudness)
    for fr in buf.frames:
        writer.write(fr)
    cues = make_cues(utt)
    write_srt(cues, out.with_suffix(".srt"))
    write_vtt(cues, out.with_suffix(".vtt"))
    writer.close()
    wav.unlink()
    return frames, utt.duration


def run(args: dict) -> dict:
    """Load the avatar, time one render in ``args["mode"]``, return the result line."""
    from podium.avatars import AvatarLibrary

    rec = AvatarLibrary(args["home"]).get(args["name"])
    render = {"stream": render_stream, "buffered": render_buffered}[args["mode"]]
    t = time.perf_counter()
    frames, duration = render(rec, args["script"], Path(args["out"]))
    wall = time.perf_counter() - t
    return {"maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "frames": frames, "duration": duration, "wall": wall}


def main(argv: list[str]) -> int:
    """Fork, run the render in the grandchild, pass its exit status on."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    args = json.loads(argv[0])
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            print(json.dumps(run(args)))
        except BaseException:  # noqa: BLE001 - the parent reads the traceback from stderr
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # no interpreter teardown in the forked copy
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
