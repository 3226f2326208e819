"""Script to finished video: the render pipeline."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from podium.avatars.bank import extract_crop
from podium.avatars.library import AvatarRecord
from podium.avatars.manifest import SpeechDefaults
from podium.common.errors import UserInputError
from podium.common.files import check_output_free, clean_stale_temps, default_mode, output_lock, temp_prefix
from podium.common.media import VideoWriter
from podium.common.progress import Progress, silent
from podium.lipsync.captions import make_cues, write_srt, write_vtt
from podium.lipsync.coarticulation import MouthTrack, mouth_track
from podium.lipsync.compositing import Compositor
from podium.lipsync.layout import FrameComposer, Layout, check_layout, fill_frame
from podium.lipsync.loaded_avatar import LoadedAvatar, load_avatar
from podium.lipsync.warp_renderer import WarpRenderer
from podium.speech.utterance import Utterance


@dataclass(frozen=True)
class RenderOptions:
    """Per-call options; ``None`` means the default.

    Attributes
    ----------
    voice : str, optional
        Voice id (``podium voices``); default: the avatar's own voice, else speech.DEFAULT_VOICE.
    rate_wpm : int, optional
        Speaking rate, words per minute; default: the avatar's own rate, else the voice's.
    pitch : float, optional
        Pitch relative to the voice's (espeak-ng voices); default: the avatar's own, else 1.
    size : tuple[int, int], optional
        Output (width, height); default: the avatar's own size.
    crf : int
        x264 quality, lower is better.
    preset : str
        x264 speed preset.
    loudness : float, optional
        Target integrated loudness of the audio, LUFS (None keeps the voice's level).
    renderer : str
        ``"warp"``, ``"neural"`` or ``"auto"`` (the avatar's own renderer).
    """

    voice: str | None = None
    rate_wpm: int | None = None
    pitch: float | None = None
    size: tuple[int, int] | None = None
    crf: int = 20
    preset: str = "veryfast"
    loudness: float | None = -16.0
    renderer: str = "auto"
    music: str | Path | None = None
    music_volume_db: float = -20.0
    layout: Layout = Layout()


@dataclass(frozen=True)
class RenderResult:
    """What a render wrote. Durations in seconds."""

    video: Path
    srt: Path
    vtt: Path
    frames: int
    duration: float
    track: MouthTrack
    utterance: Utterance | None = None  # the speech as rendered (timings for a timeline)

    def __repr__(self) -> str:
        return (f"RenderResult(video='{self.video}', duration={self.duration:.2f} s, "
                f"frames={self.frames}, captions='{self.srt.name}', '{self.vtt.name}')")


def check_output_path(out: str | Path) -> Path:
    """Validate the requested output file before any work is done."""
    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise UserInputError(f"output must be an .mp4 file, got '{out}'")
    if not out.parent.exists():
        raise UserInputError(f"output folder '{out.parent}' does not exist; create it first")
    if out.is_dir():
        raise UserInputError(f"'{out}' is a folder; give a file name ending in .mp4")
    clean_stale_temps(out.parent)  # what a killed render left behind
    check_output_free(out)
    return out


def check_render_request(out: str | Path, options: RenderOptions) -> Path:
    """Everything about a render that can be checked before slow work: the output path and
    the layout (colours, images). Returns the output path."""
    out = check_output_path(out)
    check_layout(options.layout)
    return out


@dataclass(frozen=True)
class BaseFrame:
    """One frame to draw a mouth on.

    Attributes
    ----------
    image : np.ndarray
        uint8 (H, W, 3) RGB.
    frame_to_canon : np.ndarray or None
        (2, 3) canonical transform of its face; None passes the frame through untouched.
    marks : tuple or None
        (lips, jaw, nose) canonical landmarks of its face.
    """

    image: np.ndarray
    frame_to_canon: np.ndarray | None
    marks: tuple | None


def loop_frames(avatar: LoadedAvatar, n: int, *, start: int = 0) -> Iterator[BaseFrame]:
    """``n`` frames of the avatar's base loop, beginning at output frame ``start``."""
    for k in range(start, start + n):
        j = avatar.loop_index(k)
        yield BaseFrame(avatar.frames[j], avatar.frame_to_canon[j], avatar.frame_marks[j])


def make_renderer(avatar: LoadedAvatar, kind: str = "auto"):
    """The mouth renderer for an avatar: ``"warp"``, ``"neural"`` or ``"auto"`` (the avatar's own)."""
    if kind == "auto":
        kind = avatar.record.manifest.renderer
    if kind == "warp":
        return WarpRenderer(avatar.bank)
    if kind == "neural":
        weights = avatar.record.path / "parts" / "renderer"
        if not (weights / "config.json").is_file():
            raise UserInputError(f"avatar '{avatar.record.name}' has no trained neural renderer; run "
                                 f"`podium avatar train {avatar.record.name}` or use --renderer warp")
        from podium.lipsync.neural import NeuralRenderer

        return NeuralRenderer(avatar.bank, weights)
    raise UserInputError(f"unknown renderer '{kind}'; use warp or neural")


def render_frames(avatar: LoadedAvatar, track: MouthTrack, writer: VideoWriter, *,
                  bases: Iterable[BaseFrame] | None = None, size: tuple[int, int] | None = None,
                  composer: FrameComposer | None = None, slides: Sequence | None = None,
                  renderer=None, progress: Progress = silent) -> int:
    """Draw the mouth of every frame of ``track`` and stream the frames to ``writer``.

    Parameters
    ----------
    bases : iterable of BaseFrame, optional
        Frames to draw on (dubbing); default: the avatar's base loop.
    size : tuple[int, int], optional
        Output (width, height); frames of another size are fitted into it.
    composer : FrameComposer, optional
        Places each frame in the output layout (background, slide); overrides ``size``.
    slides : sequence, optional
        Per-frame slide image path (scenes), passed to ``composer``.
    renderer : optional
        Mouth renderer; default: :func:`make_renderer` of the avatar.

    Returns
    -------
    frames : int
        Number of frames written.
    """
    renderer = renderer or make_renderer(avatar)
    compositor = Compositor(avatar.bank.geometry, avatar.bank.mask)
    lips = avatar.model.lips(track.openness, track.spread)
    n = len(lips)
    bases = iter(bases if bases is not None else loop_frames(avatar, n))
    for k in range(n):
        base = next(bases)
        frame = base.image
        if base.frame_to_canon is not None:
            base_crop = extract_crop(base.image, base.frame_to_canon, avatar.bank.geometry)
            crop = renderer.render(lips[k], base.marks, base_crop)
            frame = compositor.paste(base.image, crop, base.frame_to_canon)
        if composer is not None:
            frame = composer(frame, slide=slides[k] if slides is not None else None)
        elif size is not None and (frame.shape[1], frame.shape[0]) != size:
            frame = fill_frame(frame, size)
        writer.write(frame)
        progress("rendering video", k + 1, n)
    return n


def pad_utterance(utterance, *, before: float = 0.3, after: float = 0.45):
    """The utterance with silence added around it (seconds), timings shifted.

    A video that starts mid-word looks cut off; a short rest with the mouth
    closed at both ends reads as a deliberate start and finish.
    """
    from dataclasses import replace

    sr = utterance.sample_rate
    audio = np.concatenate([np.zeros(int(before * sr), np.float32), utterance.audio,
                            np.zeros(int(after * sr), np.float32)])
    shift = int(before * sr) / sr
    move = lambda items: tuple(replace(x, start=x.start + shift, end=x.end + shift) for x in items)
    return replace(utterance, audio=audio, phonemes=move(utterance.phonemes),
                   words=move(utterance.words), sentences=move(utterance.sentences))


def encode_outputs(out: Path, utterance, *, fps: float, size: tuple[int, int], options: RenderOptions,
                   draw: Callable[[VideoWriter], int], track: MouthTrack) -> RenderResult:
    """Write the MP4 (frames from ``draw``, audio from ``utterance``) and its captions.

    Everything is written under temporary names first; the MP4, SRT and VTT are moved into
    place together once the video is complete, so a failure or an interrupt leaves the
    previous files of that name as they were (or nothing) and no temporary files, and a
    second render into the same path meanwhile is refused (:func:`common.files.output_lock`).
    """
    srt, vtt = out.with_suffix(".srt"), out.with_suffix(".vtt")
    music = read_music(utterance, options)  # before any file exists: music errors first
    temps: list[Path] = []

    def temp(suffix: str) -> Path:
        fd, name = tempfile.mkstemp(prefix=temp_prefix(), suffix=suffix, dir=out.parent)
        os.close(fd)
        temps.append(Path(name))
        return temps[-1]

    with output_lock(out):
        try:
            wav = temp(".wav")
            write_soundtrack(wav, utterance, options, music=music)
            del music
            writer = VideoWriter(out, size=size, fps=fps, audio=wav, crf=options.crf,
                                 preset=options.preset)
            try:
                frames = draw(writer)
            except BaseException:
                writer.abort()
                raise
            cues = make_cues(utterance)
            srt_tmp, vtt_tmp = temp(".srt"), temp(".vtt")
            write_srt(cues, srt_tmp)
            write_vtt(cues, vtt_tmp)
            video_tmp = writer.close(publish=False)
            temps.append(video_tmp)
            # All three are complete: captions, then the video they belong to.
            for tmp, final in ((srt_tmp, srt), (vtt_tmp, vtt), (video_tmp, out)):
                os.chmod(tmp, default_mode())
                os.replace(tmp, final)
        finally:
            for tmp in temps:
                tmp.unlink(missing_ok=True)
    return RenderResult(out, srt, vtt, frames, utterance.duration, track, utterance)


def library_home(record: AvatarRecord | None) -> Path | None:
    """The library folder an avatar lives in (``home/avatars/NAME``): its lexicon and
    dropped-in voices are that library's."""
    return record.path.parent.parent if record is not None else None


def lexicon_for(record: AvatarRecord | None):
    """The pronunciations a render uses: the user's lexicon (``$PODIUM_HOME/lexicon.json``
    of the avatar's library) with the avatar's own (``lexicon.json`` in its folder) on top."""
    from podium.speech.lexicon import FILE_NAME, Lexicon

    if record is None:
        return Lexicon()
    return Lexicon.load(library_home(record) / FILE_NAME).merged(Lexicon.load(record.path / FILE_NAME))


def speech_kwargs(record: AvatarRecord | None, options: RenderOptions) -> dict:
    """Keyword arguments for :func:`speech.synthesize` in a render: voice, rate and pitch
    (the options', else the avatar's stored ones from ``podium avatar set``, else the
    default voice at its own rate and pitch), the lexicon (:func:`lexicon_for`) and the
    library folder whose dropped-in voices count (:func:`library_home`)."""
    from podium.speech.voices import DEFAULT_VOICE

    stored = record.manifest.speech_defaults if record is not None else SpeechDefaults()
    pick = lambda mine, theirs: mine if mine is not None else theirs
    return {"voice": options.voice or stored.voice or DEFAULT_VOICE,
            "rate_wpm": pick(options.rate_wpm, stored.rate_wpm), "pitch": pick(options.pitch, stored.pitch),
            "lexicon": lexicon_for(record), "home": library_home(record)}


def read_music(utterance, options: RenderOptions) -> np.ndarray | None:
    """The background music of a render, decoded at the speech's sample rate (None without
    music); a missing or unreadable file is a :class:`UserInputError`."""
    if options.music is None:
        return None
    from podium.common.media import read_audio

    music_path = Path(options.music)
    if not music_path.is_file():
        raise UserInputError(f"music file not found: '{music_path}'; check the path")
    # Only as much as the video lasts is decoded (the mix loops shorter music).
    music = read_audio(music_path, sample_rate=utterance.sample_rate,
                       max_seconds=len(utterance.audio) / utterance.sample_rate + 0.1)
    if music.size == 0:
        raise UserInputError(f"'{music_path.name}' has no audio ffmpeg can read; give a WAV, "
                             "MP3 or M4A file")
    return music


class _WavSink:
    """A 16-bit WAV written piece by piece; ``rewind`` starts it again (loudness retries)."""

    def __init__(self, path: Path, sample_rate: int):
        import soundfile

        self._file = soundfile.SoundFile(str(path), "w", samplerate=sample_rate, channels=1,
                                         subtype="PCM_16", format="WAV")

    def __call__(self, piece: np.ndarray) -> None:
        self._file.write(piece)

    def rewind(self) -> None:
        self._file.seek(0)
        self._file.truncate(0)

    def close(self) -> None:
        self._file.close()


def write_soundtrack(path: Path, utterance, options: RenderOptions, *,
                     music: np.ndarray | None = None) -> None:
    """Write the soundtrack of a video to ``path`` (16-bit WAV): speech, music ducked under
    it (if any), loudness-normalised to ``options.loudness`` with peaks limited to -1.5 dBFS.
    Streamed: memory does not grow with the video's length."""
    from podium.common.audio import write_finished_audio

    sink = _WavSink(Path(path), utterance.sample_rate)
    try:
        write_finished_audio(sink, utterance.audio, utterance.sample_rate, music=music,
                             music_volume_db=options.music_volume_db, target=options.loudness)
    finally:
        sink.close()


def finish_audio(utterance, options: RenderOptions) -> np.ndarray:
    """The soundtrack as :func:`write_soundtrack` writes it, as one array.

    Returns
    -------
    np.ndarray
        float32 (n_samples,) at ``utterance.sample_rate``.
    """
    from podium.common.audio import write_finished_audio

    pieces: list[np.ndarray] = []

    class _Collect:
        def __call__(self, piece):
            pieces.append(piece)

        def rewind(self):
            pieces.clear()

    write_finished_audio(_Collect(), utterance.audio, utterance.sample_rate,
                         music=read_music(utterance, options),
                         music_volume_db=options.music_volume_db, target=options.loudness)
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    return size[0] - size[0] % 2, size[1] - size[1] % 2


def render_utterance(record: AvatarRecord, utterance, out: str | Path, *,
                     options: RenderOptions = RenderOptions(), progress: Progress = silent) -> RenderResult:
    """Render a synthesized (or aligned) utterance with an avatar (checks, then
    :func:`draw_video`)."""
    out = check_render_request(out, options)
    return draw_video(record, utterance, out, options=options, progress=progress)


def draw_video(record: AvatarRecord, utterance, out: Path, *, options: RenderOptions,
               progress: Progress = silent,
               slide_at: Callable[[float], str | None] | None = None) -> RenderResult:
    """Render an utterance whose request was already checked (:func:`check_render_request`).

    Steps: 1. load the avatar and its renderer; 2. phones -> per-frame mouth
    targets; 3. frames streamed into H.264 with the audio as AAC, and captions.

    Parameters
    ----------
    slide_at : callable, optional
        ``slide_at(t)`` gives the slide shown at ``t`` seconds (scenes).
    """
    layout = options.layout
    # 1. avatar
    avatar = load_avatar(record)
    renderer = make_renderer(avatar, options.renderer)
    # 2. mouth trajectory
    track = mouth_track(utterance.phonemes, utterance.duration, fps=avatar.fps)
    slides = None
    if slide_at is not None:
        slides = [slide_at((k + 0.5) / avatar.fps) for k in range(len(track.openness))]
    composer = None
    if not layout.is_plain or slides is not None:
        composer = FrameComposer(layout if options.size is None else replace(layout, size=options.size),
                                 avatar.size)
        size = composer.size
    else:
        size = even_size(options.size or avatar.size)

    # 3. frames, audio, captions
    def draw(writer):
        try:
            return render_frames(avatar, track, writer, size=size, renderer=renderer,
                                 composer=composer, slides=slides, progress=progress)
        finally:
            if composer is not None:
                composer.close()

    return encode_outputs(out, utterance, fps=avatar.fps, size=size, options=options, draw=draw,
                          track=track)


def render_script(record: AvatarRecord, script: str, out: str | Path, *,
                  options: RenderOptions = RenderOptions(), progress: Progress = silent) -> RenderResult:
    """Synthesize ``script`` with the chosen voice and render it with the avatar."""
    from podium import speech

    out = check_render_request(out, options)
    progress("synthesizing speech", 0, 1)
    utterance = pad_utterance(speech.synthesize(script, **speech_kwargs(record, options)))
    progress("synthesizing speech", 1, 1)
    return draw_video(record, utterance, out, options=options, progress=progress)
