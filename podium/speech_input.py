"""What a video says: a script, or a recording of a voice. Checked when made."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from podium.common.errors import FootageError, ScriptError, UserInputError

#: Largest script file read, bytes.
MAX_SCRIPT_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class Speech:
    """The speech of one video: a script to synthesize or a recording to lip-sync.

    Make one with :meth:`from_script`, :meth:`from_script_file` or :meth:`from_recording`;
    each checks its input at once (markup errors with line and column, a missing file), so
    nothing slow starts on a request that cannot succeed. The voice, rate and lexicon are
    chosen when an avatar speaks it (:meth:`podium.Avatar.speak`).

    Attributes
    ----------
    script : str or None
        Script text with markup (pauses, pronunciations, SSML...), at most
        :data:`podium.speech.script.MAX_SCRIPT_CHARS` characters lasting at most the longest
        video (:data:`podium.limits.MAX_VIDEO_MINUTES`).
    recording : Path or None
        An audio (or video) file of a voice with an audio stream, at most the longest video.
    transcript : str or None
        What the recording says (better English lip timing).
    language : str or None
        Language code of the recording ("en" recognises English words and aligns them).
    segments : tuple
        The script as parsed when checked (:func:`podium.speech.parse_script`), so it is
        parsed once per request.
    """

    script: str | None = None
    recording: Path | None = None
    transcript: str | None = None
    language: str | None = None
    segments: tuple = field(default=(), compare=False, repr=False)

    @classmethod
    def from_script(cls, script: str) -> "Speech":
        """Speech from script text.

        Raises
        ------
        ScriptError
            Empty script, ``{{variables}}`` left unfilled, bad markup, too many characters,
            or pauses and speech longer than the longest video.
        """
        from podium import speech

        if not isinstance(script, str) or not script.strip():
            raise ScriptError("the script is empty; give the text the presenter should say")
        return cls(script=script, segments=speech.parse_script(script))

    @classmethod
    def from_script_file(cls, path: str | Path) -> "Speech":
        """Speech from a UTF-8 script file (at most :data:`MAX_SCRIPT_FILE_BYTES`)."""
        return cls.from_script(read_script_file(path))

    @classmethod
    def from_recording(cls, path: str | Path, *, transcript: str | None = None,
                       language: str | None = None) -> "Speech":
        """Speech from a recording; its phone timings come from alignment when spoken.

        Parameters
        ----------
        path : str or Path
            WAV, MP3, M4A, FLAC... (anything ffmpeg reads with an audio stream).
        transcript : str, optional
            What the recording says.
        language : str, optional
            The recording's language, e.g. "en", "de".

        Raises
        ------
        UserInputError
            Missing file, no audio stream, or longer than the longest video
            (:func:`check_recording`).
        """
        path = check_recording(path)
        transcript = transcript.strip() if transcript and transcript.strip() else None
        language = language.strip() if language and language.strip() else None
        return cls(recording=path, transcript=transcript, language=language)

    @property
    def is_recording(self) -> bool:
        return self.recording is not None

    def __repr__(self) -> str:
        if self.recording is not None:
            extra = "".join(f", {k}={v!r}" for k, v in (("transcript", self.transcript),
                                                       ("language", self.language)) if v)
            return f"Speech(recording='{self.recording}'{extra})"
        one_line = " ".join((self.script or "").split())
        shown = one_line if len(one_line) <= 50 else one_line[:49] + "…"
        return f"Speech(script={shown!r}, {len(self.script or '')} characters)"


def check_recording(path: str | Path) -> Path:
    """A recording's path, checked from its headers (nothing is decoded): it exists, has an
    audio stream, and lasts at most the longest video (:func:`podium.common.media.max_video_seconds`).

    Raises
    ------
    UserInputError
        What is wrong, naming the file.
    """
    from podium.common.media import format_duration, max_video_seconds, probe, video_length_hint

    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"recording not found: '{path}'; check the path")
    try:
        info = probe(path)
    except FootageError:
        raise UserInputError(f"'{path.name}' is not an audio file ffmpeg can read; give a WAV, MP3, "
                             "M4A or FLAC recording") from None
    if not info.has_audio:
        raise UserInputError(f"'{path.name}' has no audio stream; give a recording of the voice "
                             "(WAV, MP3, M4A, FLAC, or a video with sound)")
    if not info.duration > 0:
        raise UserInputError(f"the length of '{path.name}' cannot be read from its header; convert "
                             "it to WAV or FLAC first")
    if info.duration > max_video_seconds():
        raise UserInputError(f"recording '{path.name}' lasts {format_duration(info.duration)}; "
                             f"{video_length_hint()}; cut it into several videos")
    return path


def read_script_file(path: str | Path) -> str:
    """The text of a UTF-8 script file, checked for size and encoding."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"script file not found: '{path}'")
    with open(path, "rb") as fh:
        raw = fh.read(MAX_SCRIPT_FILE_BYTES + 1)
    if len(raw) > MAX_SCRIPT_FILE_BYTES:
        raise UserInputError(f"script '{path}' is over {MAX_SCRIPT_FILE_BYTES // 1024} KB; split it "
                             "into several videos")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserInputError(f"script '{path}' is not UTF-8 text; save it as UTF-8") from exc
