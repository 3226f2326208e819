"""What every button of the studio does, without gradio.

:class:`Studio` is the studio of one ``PODIUM_HOME``: a front-door :class:`podium.Library`,
a :class:`~ui.studio.runner.JobRunner` (the job log, progress, Cancel, Retry) and one
piece per tab (:mod:`~ui.studio.avatar_actions`, :mod:`~ui.studio.render_actions`,
:mod:`~ui.studio.dub_actions`, :mod:`~ui.studio.batch_actions`), each a thin adapter: it
checks the uploads and turns the controls' values into one front-door call. Its methods
take plain values (paths of uploaded files, text, numbers), raise
:class:`common.errors.PodiumError` for anything the user can fix and
:class:`ui.studio.progress.Cancelled` when the user pressed Cancel, and return small
dataclasses the layout turns into components.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from podium.common.progress import Progress, silent
from podium.library import Library
from podium.ui.studio import choices
from podium.ui.studio.avatar_actions import PREVIEW_SCRIPT, AvatarActions, AvatarOutcome
from podium.ui.studio.batch_actions import BatchActions, BatchOutcome, BatchPreview, status_table
from podium.ui.studio.choices import LAYOUTS, RENDERERS, SIZES, parse_size
from podium.ui.studio.dub_actions import DubActions
from podium.ui.studio.progress import Sink
from podium.ui.studio.quality import QualityReport
from podium.ui.studio.render_actions import MARKUP_HELP, RenderActions, slug
from podium.ui.studio.runner import JobRunner, VideoOutcome

__all__ = ["Studio", "VideoOutcome", "AvatarOutcome", "BatchOutcome", "BatchPreview", "status_table",
           "slug", "parse_size", "MARKUP_HELP", "PREVIEW_SCRIPT", "SIZES", "RENDERERS", "LAYOUTS"]

CACHE_MAX_AGE_S = 24 * 3600


class Studio:
    """The studio of one library home (``--home``, ``$PODIUM_HOME`` or the default).

    Parameters
    ----------
    home : str or Path, optional
        Library root; the studio keeps its own files under ``home/ui``.
    """

    #: The voice dropdown's first choice: the avatar's stored voice, else the default one.
    OWN_VOICE = choices.OWN_VOICE

    def __init__(self, home: str | Path | None = None):
        self.library = Library(home)
        self.home = self.library.home
        self.ui_dir = self.home / "ui"
        self.previews_dir = self.ui_dir / "previews"
        self.cache_dir = self.ui_dir / "cache"
        self.runner = JobRunner(self.ui_dir)
        self.jobs = self.runner.jobs
        self.cancels = self.runner.cancels
        self.avatars = AvatarActions(self.library, self.runner, self.previews_dir)
        self.renders = RenderActions(self.library, self.runner, self.cache_dir)
        self.dubs = DubActions(self.library, self.runner)
        self.batches = BatchActions(self.library, self.runner)
        self._clean_cache()

    @property
    def served_dirs(self) -> list[Path]:
        """Folders whose files the web page may fetch (outputs, previews, audio previews)."""
        return [self.jobs.jobs_dir, self.previews_dir, self.cache_dir]

    def _clean_cache(self) -> None:
        if not self.cache_dir.is_dir():
            return
        now = time.time()
        for p in self.cache_dir.iterdir():
            if p.is_file() and now - p.stat().st_mtime > CACHE_MAX_AGE_S:
                p.unlink(missing_ok=True)

    # --- jobs ---------------------------------------------------------------------------

    def cancel(self, session: str) -> str:
        return self.runner.cancel(session)

    def retry(self, job_id: str, *, sink: Sink | None = None, session: str = "local"):
        """Run a failed, cancelled or interrupted job again, in place.

        Returns what the job's kind returns (:class:`VideoOutcome`, :class:`AvatarOutcome`,
        :class:`BatchOutcome` or a message).
        """
        return self.runner.retry(job_id, sink=sink, session=session)

    def jobs_table(self) -> list[list]:
        return self.runner.jobs_table()

    def job_choices(self) -> list[tuple[str, str]]:
        return self.runner.job_choices()

    def job_video(self, job_id: str) -> VideoOutcome:
        """The files of a finished render or dub, for the player."""
        return self.runner.job_video(job_id)

    # --- avatars ------------------------------------------------------------------------

    def avatar_names(self) -> list[str]:
        return self.library.avatar_names()

    def quality(self, upload, *, progress: Progress = silent) -> QualityReport:
        """The pre-flight report of an uploaded clip or photo (raises for a non-media file)."""
        return self.avatars.quality(upload, progress=progress)

    def create_avatar(self, upload, name: str, consent_name: str, consent_given: bool, *,
                      train_minutes: float | None = None, sink: Sink | None = None,
                      session: str = "local") -> AvatarOutcome:
        """Make an avatar from an uploaded clip or photo (:meth:`podium.Library.create_avatar`).

        Refused without both the consenting person's full name and the consent box
        ticked; the upload is probed before anything is stored. ``train_minutes`` also
        trains the neural renderer, which then draws the avatar's videos.
        """
        return self.avatars.create(upload, name, consent_name, consent_given, train_minutes=train_minutes,
                                   sink=sink, session=session)

    def train_avatar(self, name: str, minutes: float, *, sink: Sink | None = None,
                     session: str = "local") -> str:
        """Train (or continue training) an avatar's neural renderer for ``minutes``."""
        return self.avatars.train(name, minutes, sink=sink, session=session)

    def delete_avatar(self, name: str) -> str:
        return self.avatars.delete(name)

    def avatar_details(self, name: str) -> str:
        return self.avatars.details(name)

    def preview_clip(self, name: str) -> Path:
        """A ~2 s clip of the avatar saying a line, rendered once and cached."""
        return self.avatars.preview_clip(name)

    def gallery(self) -> list[tuple[str, str]]:
        """``(preview clip, caption)`` of every avatar; renders missing previews."""
        return self.avatars.gallery()

    # --- speech and render --------------------------------------------------------------

    def voice_choices(self) -> list[tuple[str, str]]:
        return choices.voice_choices(self.library)

    def preview_audio(self, script: str, voice: str | None, rate=None, avatar: str | None = None) -> Path:
        """The soundtrack of ``script`` spoken by ``avatar`` (no video), a WAV to play."""
        return self.renders.preview_audio(script, voice, rate, avatar)

    def render(self, avatar: str, script: str, voice: str | None = None, rate=None, size: str | None = None,
               renderer: str = "auto", *, look: dict | None = None, sink: Sink | None = None,
               session: str = "local") -> VideoOutcome:
        """Render ``script`` with ``avatar``; MP4 + SRT + VTT + timeline.

        ``voice`` None or "" and ``rate`` None use the avatar's stored voice and rate;
        ``look`` holds the layout, background, slide(s) and music controls
        (:func:`ui.studio.choices.parse_look`).
        """
        return self.renders.render(avatar, script, voice, rate, size, renderer, look=look, sink=sink,
                                   session=session)

    # --- dub ----------------------------------------------------------------------------

    def dub(self, avatar: str, video, *, audio=None, transcript: str = "", language: str = "",
            script: str = "", voice: str | None = None, rate=None, renderer: str = "auto",
            sink: Sink | None = None, session: str = "local") -> VideoOutcome:
        """Re-sync the lips of an uploaded video of the avatar's person to new speech:
        a recording (``audio``, optional ``transcript``) or a ``script`` spoken by ``voice``."""
        return self.dubs.dub(avatar, video, audio=audio, transcript=transcript, language=language,
                             script=script, voice=voice, rate=rate, renderer=renderer, sink=sink,
                             session=session)

    # --- batch --------------------------------------------------------------------------

    def batch_preview(self, csv_upload, template: str) -> BatchPreview:
        """Read the CSV and fill the template for every row (nothing is rendered)."""
        return self.batches.preview(csv_upload, template)

    def render_batch(self, avatar: str, template: str, csv_upload, selected, voice: str | None = None,
                     rate=None, size: str | None = None, renderer: str = "auto", *,
                     look: dict | None = None, sink: Sink | None = None, on_row: Callable | None = None,
                     session: str = "local") -> BatchOutcome:
        """Render the selected rows one after another; a zip of the results at the end."""
        return self.batches.render(avatar, template, csv_upload, selected, voice, rate, size, renderer,
                                   look=look, sink=sink, on_row=on_row, session=session)
