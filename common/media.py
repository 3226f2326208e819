"""Thin, safe wrappers around the ffmpeg binary shipped by ``imageio-ffmpeg``.

ffmpeg is always run with an argument list (never a shell string) and with a
timeout for anything that only reads headers, so a hostile or broken file
cannot hang the program.
"""

from __future__ import annotations

import math
import os
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from podium.common.errors import FootageError, InternalError, UserInputError
from podium.common.files import default_mode, temp_prefix

PROBE_TIMEOUT_S = 20.0

#: Longest video one request may make, minutes: it bounds a script's estimated length, a
#: recording's and the scenes' total ($PODIUM_MAX_VIDEO_MINUTES raises it).
MAX_VIDEO_MINUTES = 30.0
#: Largest image read (slides, backgrounds, portraits), checked on its header before it is
#: decoded: pixels a side ($PODIUM_MAX_IMAGE_SIDE) and in all ($PODIUM_MAX_IMAGE_MEGAPIXELS).
MAX_IMAGE_SIDE = 8192
MAX_IMAGE_MEGAPIXELS = 40.0


def env_limit(name: str, default: float) -> float:
    """A bound: the environment variable ``name`` if set (a positive number), else ``default``.

    Raises
    ------
    UserInputError
        The variable is set to something that is not a positive number.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UserInputError(f"{name}={raw!r} is not a positive number; set it to a number "
                             f"(default {default:g}) or unset it")
    return value


def max_video_seconds() -> float:
    """The longest video a request may make, seconds (:data:`MAX_VIDEO_MINUTES`)."""
    return 60.0 * env_limit("PODIUM_MAX_VIDEO_MINUTES", MAX_VIDEO_MINUTES)


def format_duration(seconds: float) -> str:
    """``"2 h 05 min"``, ``"31 min"`` or ``"45 s"``, for messages."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def video_length_hint() -> str:
    """What to say when something is longer than :func:`max_video_seconds`."""
    return (f"the longest video is {format_duration(max_video_seconds())} (set "
            "PODIUM_MAX_VIDEO_MINUTES for more)")


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: JPEG start-of-frame markers (the ones that carry the image size).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(fh) -> tuple[int, int] | None:
    """(width, height) from the first SOF segment of a JPEG; ``fh`` just past the SOI."""
    for _ in range(4096):  # markers before the frame header: APPn, DQT, DHT, COM...
        byte = fh.read(1)
        while byte and byte != b"\xff":  # garbage between segments
            byte = fh.read(1)
        while byte == b"\xff":  # fill bytes
            byte = fh.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # no length
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header came
            return None
        head = fh.read(2)
        if len(head) < 2:
            return None
        length = struct.unpack(">H", head)[0]
        if marker in _JPEG_SOF:
            frame = fh.read(5)
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return (width, height) if width and height else None
        fh.seek(length - 2, os.SEEK_CUR)
    return None


def _header_size(path: Path) -> tuple[int, int] | str | None:
    """(width, height) read from an image's header, never decoding its pixels: PNG's IHDR
    and JPEG's SOF by hand, other formats through Pillow's lazy ``Image.open``. ``"huge"``
    when Pillow refuses it as a decompression bomb, None when no size can be read."""
    with open(path, "rb") as fh:
        head = fh.read(24)
        if head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        if head.startswith(b"\xff\xd8"):
            fh.seek(2)
            size = _jpeg_size(fh)
            if size is not None:
                return size
    try:
        import warnings

        from PIL import Image
    except ImportError:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:  # reads the header only
                return tuple(img.size)
    except Image.DecompressionBombError:
        return "huge"
    except Exception:  # noqa: BLE001 - any format Pillow cannot open: no size known
        return None


def check_image_size(path: str | Path, what: str = "image", *,
                     error: type[UserInputError] = UserInputError) -> tuple[int, int]:
    """The (width, height) of an image file, read from its header before anything decodes
    it, within :data:`MAX_IMAGE_SIDE` a side and :data:`MAX_IMAGE_MEGAPIXELS` in all.

    Raises
    ------
    UserInputError (or ``error``)
        Missing file, no size in its header, or too large.
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} image not found: '{path}'; check the path")
    side = int(env_limit("PODIUM_MAX_IMAGE_SIDE", MAX_IMAGE_SIDE))
    megapixels = env_limit("PODIUM_MAX_IMAGE_MEGAPIXELS", MAX_IMAGE_MEGAPIXELS)
    hint = (f"the largest {what} is {side} px a side and {megapixels:g} megapixels (set "
            "PODIUM_MAX_IMAGE_SIDE / PODIUM_MAX_IMAGE_MEGAPIXELS for more); scale it down first")
    try:
        size = _header_size(path)
    except OSError as exc:
        raise error(f"could not read {what} '{path.name}': {exc.strerror or exc}") from None
    if size == "huge":
        raise error(f"{what} '{path.name}' is far too large; {hint}")
    if size is None:
        raise error(f"'{path.name}' is not an image whose size can be read; give a PNG or JPEG {what}")
    w, h = (int(v) for v in size)
    if w > side or h > side or w * h > megapixels * 1e6:
        raise error(f"{what} '{path.name}' is {w}x{h} pixels ({w * h / 1e6:.0f} megapixels); {hint}")
    return w, h


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


def read_audio(path: str | Path, *, sample_rate: int = 16000, timeout: float = 120.0,
               max_seconds: float | None = None) -> np.ndarray:
    """Decode the first audio stream to mono float32.

    Parameters
    ----------
    max_seconds : float, optional
        Decode only the first this many seconds (ffmpeg stops there): memory and time follow
        what is used, not the file's length.

    Returns
    -------
    audio : np.ndarray
        float32, shape (n_samples,), in [-1, 1]; empty when the file has no audio.
    """
    limit = [] if max_seconds is None else ["-t", f"{max(float(max_seconds), 0.001):.6f}"]
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
         "-vn", "-ac", "1", "-ar", str(sample_rate), *limit, "-f", "s16le", "-"],
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

    def close(self, *, publish: bool = True) -> Path:
        """Finish encoding and move the file into place; returns the final path.

        With ``publish=False`` the finished file stays under its temporary name, which is
        returned: the caller moves it into place together with the files that go with it.
        """
        import os

        self._proc.stdin.close()
        err = self._proc.stderr.read().decode("utf-8", "replace")
        if self._proc.wait() != 0:
            self._tmp.unlink(missing_ok=True)
            raise InternalError("video encoding failed: " + err.strip()[-300:])
        os.chmod(self._tmp, default_mode())
        if not publish:
            return self._tmp
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
