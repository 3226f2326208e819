"""Dubbing: re-sync the lips of an existing video of the avatar's person to new speech.

Everything outside the mouth region of the input frames is kept (head motion,
blinks, background); only the feathered mouth mask is redrawn. When the new
speech outlasts the video, the video continues with the avatar's base loop.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterator

import numpy as np

from podium.avatars import landmarks as L
from podium.avatars.bank import landmark_sets
from podium.avatars.library import AvatarRecord
from podium.avatars.tracking import track_video
from podium.common.errors import FootageError, UserInputError
from podium.common.media import probe, read_frames
from podium.common.progress import Progress, silent
from podium.lipsync.coarticulation import MouthTrack, mouth_track
from podium.lipsync.loaded_avatar import LoadedAvatar, load_avatar
from podium.lipsync.pipeline import (
    BaseFrame,
    RenderOptions,
    RenderResult,
    check_output_path,
    encode_outputs,
    even_size,
    loop_frames,
    make_renderer,
    pad_utterance,
    render_frames,
)


def _video_frames(video: Path, fps: float, points: np.ndarray, present: np.ndarray) -> Iterator[BaseFrame]:
    for i, frame in enumerate(read_frames(video, fps=fps)):
        if i >= len(points):
            break
        if present[i]:
            m = L.canonical_transform(points[i])
            yield BaseFrame(frame, m, landmark_sets(L.apply(m, points[i])))
        else:
            # No face in this frame (a cutaway): leave it exactly as it is.
            yield BaseFrame(frame, None, None)


def _continue_with_loop(avatar: LoadedAvatar, n: int) -> Iterator[BaseFrame]:
    yield from loop_frames(avatar, n)


def dub_video(record: AvatarRecord, video: str | Path, utterance, out: str | Path, *,
              options: RenderOptions = RenderOptions(), progress: Progress = silent,
              mouth: MouthTrack | None = None) -> RenderResult:
    """Lip-sync ``video`` to ``utterance`` with the avatar's mouth model and renderer.

    Steps: 1. probe and track the input video; 2. mouth targets at the video's frame
    rate; 3. redraw the mouth frame by frame (then the base loop, if the speech is
    longer), streamed into H.264 with the new audio; captions beside it.

    Parameters
    ----------
    record : AvatarRecord
        An avatar of the person in the video.
    video : str or Path
        The video to dub; its frame rate and size are kept.
    utterance : Utterance
        The new speech (synthesized or a recording with phone timings).
    out : str or Path
        Output ``.mp4``.
    mouth : MouthTrack, optional
        Mouth targets to draw instead of those the utterance's phones give (at the
        video's frame rate; e.g. a track measured from other footage). Frames past
        its end rest closed.

    Returns
    -------
    RenderResult
        ``frames`` is at least the input's frame count.
    """
    out = check_output_path(out)
    return draw_dub(record, check_dub_video(video, out), utterance, out, options=options,
                    progress=progress, mouth=mouth)


def check_dub_video(video: str | Path, out: Path) -> Path:
    """The video to dub exists and is not the output file (which would be overwritten while read)."""
    video = Path(video)
    if not video.is_file():
        raise UserInputError(f"video not found: '{video}'; check the path")
    if out.resolve() == video.resolve():
        raise UserInputError(f"the output '{out}' is the video being dubbed; give another --out")
    return video


def draw_dub(record: AvatarRecord, video: Path, utterance, out: Path, *,
             options: RenderOptions = RenderOptions(), progress: Progress = silent,
             mouth: MouthTrack | None = None) -> RenderResult:
    """:func:`dub_video` of a request already checked (:func:`check_dub_video`)."""
    info = probe(video)
    if info.video_codec is None:
        raise FootageError(f"'{video.name}' has no video stream; give the video to dub")
    fps = info.fps
    # 1. track the input (landmarks only: frames are decoded again while rendering)
    tracks = track_video(video, fps=fps, duration=info.duration, progress=progress)
    n_video = len(tracks.face_count)
    if n_video == 0 or tracks.present.mean() < 0.5:
        raise FootageError(f"'{video.name}' shows no single face in most frames; dubbing needs "
                           "a video of the avatar's presenter")
    avatar = load_avatar(record)
    renderer = make_renderer(avatar, options.renderer)
    # 2. mouth targets; speech shorter than the video ends in a closed, resting mouth
    if utterance.duration < n_video / fps:
        utterance = pad_utterance(utterance, before=0.0, after=n_video / fps - utterance.duration)
    if mouth is None:
        mouth = mouth_track(utterance.phonemes, utterance.duration, fps=fps)
    else:
        if abs(mouth.fps - fps) > 1e-3:
            raise ValueError(f"the mouth track is at {mouth.fps:g} fps; the video at {fps:g}")
        n_speech = max(int(np.ceil(utterance.duration * fps - 1e-6)), 1)
        pad = lambda a: np.pad(np.asarray(a, np.float32)[:n_speech], (0, max(n_speech - len(a), 0)))
        mouth = MouthTrack(pad(mouth.openness), pad(mouth.spread), float(fps))
    n = len(mouth.openness)
    if n_video < n <= n_video + 2:
        # Speech a frame or two longer than the video (codec padding): end with the
        # video instead of cutting to the base loop for a blink of an eye.
        n = n_video
        mouth = replace(mouth, openness=mouth.openness[:n], spread=mouth.spread[:n])
    size = even_size(tracks.frame_size)

    def bases() -> Iterator[BaseFrame]:
        yield from _video_frames(video, fps, tracks.points, tracks.present)
        yield from _continue_with_loop(avatar, max(n - n_video, 0))

    # 3. frames, audio, captions; a finer quantiser than for a fresh render, because
    # the frames were already compressed once and everything but the mouth must survive.
    options = replace(options, crf=min(options.crf, 16))
    draw = lambda writer: render_frames(avatar, mouth, writer, bases=bases(), size=size,
                                        renderer=renderer, progress=progress)
    return encode_outputs(out, utterance, fps=fps, size=size, options=options, draw=draw, track=mouth)
