"""Thin, safe wrappers around the ffmpeg binary shipped by ``imageio-ffmpeg``.

ffmpeg is always run with an argument list (never a shell string) and with a
timeout for anything that only reads headers, so a hostile or broken file
cannot hang the program.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from podium.common.errors import FootageError, InternalError
from podium.common.files import default_mode, temp_prefix

PROBE_TIMEOUT_S = 20.0


def ffmpeg_exe() -> str:
    """Path of the bundled ffmpeg binary (no system ffmpeg needed)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class MediaInfo:
    """What a probe learns from a file's headers.

    Attributes
    ----------
    duration : float
        Container duration in seconds (0.0 when unknown).
    width, height : int
        Display size in pixels of the first video stream, after rotation metadata.
    fps : float
        Average frame rate of the first video stream, frames per second.
    video_codec : str | None
        Codec name of the first video stream, None when there is no video.
    has_audio : bool
        Whether an audio stream is present.
    """

    duration: float
    width: int
    height: int
    fps: float
    video_codec: str | None
    has_audio: bool


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\d+:\d+.*?: Video: (\w+)(.*)")
_SIZE = re.compile(r",\s*(\d{2,5})x(\d{2,5})[\s,\[]")
_FPS = re.compile(r"([\d.]+)\s*fps")
_TBR = re.compile(r"([\d.]+k?)\s*tbr")
_ROTATE = re.compile(r"rotation of (-?[\d.]+) degrees")


def probe(path: str | Path, *, timeout: float = PROBE_TIMEOUT_S) -> MediaInfo:
    """Read a media file's headers without decoding it.

    Parameters
    ----------
    path : str or Path
        The file to probe.
    timeout : float
        Seconds before the probe is abandoned.

    Raises
    ------
    FootageError
        The file is missing, unreadable, or not a media file ffmpeg understands.
    """
    path = Path(path)
    if not path.is_file():
        raise FootageError(f"file not found: '{path}'; check the path")
    try:
        proc = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise FootageError(
            f"probing '{path}' took longer than {timeout:.0f} s; the file looks broken"
        ) from exc
    text = proc.stderr.decode("utf-8", "replace")
    if "Invalid data found" in text or "Stream #" not in text:
        raise FootageError(
            f"'{path.name}' is not a video or image ffmpeg can read; use MP4, MOV, WebM or MKV"
        )
    duration = 0.0
    m = _DURATION.search(text)
    if m:
        h, mi, s = m.groups()
        duration = int(h) * 3600 + int(mi) * 60 + float(s)
    codec, width, height, fps = None, 0, 0, 0.0
    for line in text.splitlines():
        vm = _VIDEO.search(line)
        if vm and codec is None:
            codec = vm.group(1)
            rest = vm.group(2) + " "
            sm = _SIZE.search(rest)
            if sm:
                width, height = int(sm.group(1)), int(sm.group(2))
            fm = _FPS.search(rest) or _TBR.search(rest)
            if fm:
                val = fm.group(1)
                fps = float(val[:-1]) * 1000 if val.endswith("k") else float(val)
    rm = _ROTATE.search(text)
    if rm and abs(abs(float(rm.group(1))) - 90) < 1:
        width, height = height, width
    has_audio = re.search(r"Stream #\d+:\d+.*?: Audio:", text) is not None
    return MediaInfo(duration, width, height, fps, codec, has_audio)


def read_frames(
    path: str | Path, *, fps: float | None = None, max_side: int | None = None
) -> Iterator[np.ndarray]:
    """Decode a video into RGB frames, one at a time.

    Parameters
    ----------
    path : str or Path
        Video file.
    fps : float, optional
        Resample to this constant frame rate (frames are dropped or repeated).
    max_side : int, optional
        Downscale so that the longer side is at most this many pixels (keeps even sizes).

    Yields
    ------
    frame : np.ndarray
        uint8 array of shape (height, width, 3), RGB.
    """
    import imageio_ffmpeg

    filters = []
    if fps:
        filters.append(f"fps={fps:g}")
    if max_side:
        filters.append(
            f"scale='if(gt(iw,ih),min({max_side},iw),-2)':'if(gt(iw,ih),-2,min({max_side},ih))'"
        )
        filters.append("scale=trunc(iw/2)*2:trunc(ih/2)*2")
    out_params = ["-vf", ",".join(filters)] if filters else None
    gen = imageio_ffmpeg.read_frames(str(path), output_params=out_params)
    try:
        meta = next(gen)
        w, h = meta["size"]
        for raw in gen:
            yield np.frombuffer(raw, np.uint8).reshape(h, w, 3)
    except (RuntimeError, OSError) as exc:
        raise FootageError(f"could not decode '{Path(path).name}': {exc}") from exc
    finally:
        gen.close()


def read_audio(path: str | Path, *, sample_rate: int = 16000, timeout: float = 120.0) -> np.ndarray:
    """Decode the first audio stream to mono float32.

    Returns
    -------
    audio : np.ndarray
        float32, shape (n_samples,), in [-1, 1]; empty when the file has no audio.
    """
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
         "-vn", "-ac", "1", "-ar", str(sample_rate), "-f", "s16le", "-"],
        capture_output=True, timeout=timeout, check=False,
    )
    if proc.returncode != 0:
        return np.zeros(0, np.float32)
    return np.frombuffer(proc.stdout, np.int16).astype(np.float32) / 32768.0


def run_ffmpeg(args: list[str], *, timeout: float | None = None) -> None:
    """Run ffmpeg with ``args``; raise InternalError with its last error lines on failure."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", *args],
        capture_output=True, timeout=timeout, check=False,
    )
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise InternalError("ffmpeg failed: " + " | ".join(tail))


class VideoWriter:
    """Stream RGB frames into an H.264 (yuv420p) MP4, optionally muxing an audio file.

    Frames go straight to ffmpeg's stdin, so memory stays flat however long the
    video is. The file is written under a temporary name and only renamed to
    ``path`` by :meth:`close` after ffmpeg succeeded; :meth:`abort` removes it.

    Parameters
    ----------
    path : str or Path
        Final output path (``.mp4``).
    size : tuple[int, int]
        (width, height) in pixels; both must be even.
    fps : float
        Frames per second.
    audio : str or Path, optional
        WAV/any audio file muxed as AAC 128 kb/s.
    crf : int
        x264 quality (lower is better; 18 is visually lossless for most content).
    loudness : float, optional
        Normalise the audio to this integrated loudness, LUFS.
    preset : str
        x264 speed preset.
    """

    def __init__(self, path, *, size: tuple[int, int], fps: float, audio=None,
                 crf: int = 20, preset: str = "veryfast", faststart: bool = True,
                 loudness: float | None = None):
        import os
        import tempfile

        self.path = Path(path)
        self.size = size
        if size[0] % 2 or size[1] % 2:
            raise InternalError(f"frame size {size} must be even for yuv420p")
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=self.path.suffix or ".mp4",
                                   dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}",
                "-r", f"{fps:g}", "-i", "-"]
        if audio is not None:
            args += ["-i", str(audio)]
        args += ["-map", "0:v:0"]
        if audio is not None:
            args += ["-map", "1:a:0", "-c:a", "aac", "-b:a", "128k", "-ar", "48000"]
            if loudness is not None:
                # EBU R128 normalisation; web video sits around -16 LUFS.
                args += ["-af", f"loudnorm=I={loudness:g}:TP=-1.5:LRA=11"]
        args += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf),
                 "-pix_fmt", "yuv420p", "-profile:v", "high"]
        if faststart:
            args += ["-movflags", "+faststart"]
        args += ["-f", "mp4", str(self._tmp)]
        self._proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        """Append one RGB uint8 frame of shape (height, width, 3)."""
        if frame.shape[:2] != (self.size[1], self.size[0]):
            raise InternalError(f"frame of shape {frame.shape} does not match {self.size}")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame, np.uint8).tobytes())
        except BrokenPipeError as exc:
            self.abort()
            raise InternalError("the video encoder stopped unexpectedly") from exc
        self.frames += 1

    def close(self) -> Path:
        """Finish encoding and move the file into place; returns the final path."""
        import os

        self._proc.stdin.close()
        err = self._proc.stderr.read().decode("utf-8", "replace")
        if self._proc.wait() != 0:
            self._tmp.unlink(missing_ok=True)
            raise InternalError("video encoding failed: " + err.strip()[-300:])
        os.chmod(self._tmp, default_mode())
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Stop the encoder and delete the partial file."""
        try:
            self._proc.kill()
            self._proc.wait()
        finally:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif self._proc.stdin and not self._proc.stdin.closed:
            self.close()
