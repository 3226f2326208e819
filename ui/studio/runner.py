"""The studio's job runner: every long action is a *job*, logged before it starts, its
uploaded files copied into the job's folder, run with a progress relay and a cancel token,
and recorded as done, failed or cancelled. A job cut off by a restart runs again in place
with :meth:`JobRunner.retry`.

Each kind of job registers two functions: ``work(job, relay, **extra) -> (outputs, payload)``
(it calls the front door) and ``finish(job, payload) -> outcome`` (what the page shows).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from podium.common.errors import PodiumError, UserInputError
from podium.ui.studio.jobs import Job, JobLog
from podium.ui.studio.progress import Cancelled, CancelRegistry, ProgressRelay, Sink
from podium.ui.studio.timeline import save_timeline


@dataclass(frozen=True)
class VideoOutcome:
    """A finished render or dub: the files, and what the page shows about them."""

    job: Job
    video: Path
    srt: Path | None
    vtt: Path | None
    duration: float | None
    timeline: Path | None
    message: str

    @property
    def files(self) -> list[Path]:
        return [p for p in (self.video, self.srt, self.vtt) if p is not None and p.exists()]


def video_outputs(result) -> dict:
    """The files of a :class:`podium.RenderResult`, with the timeline written beside them."""
    timeline = save_timeline(Path(result.video).with_suffix(".timeline.json"), result.utterance,
                             result.track)
    return {"video": result.video, "srt": result.srt, "vtt": result.vtt, "timeline": timeline}


class JobRunner:
    """The job log, the cancel tokens and the job kinds of one studio.

    Parameters
    ----------
    ui_dir : Path
        ``home/ui``: ``jobs.json`` and one folder per job under ``jobs/``.
    """

    def __init__(self, ui_dir: Path):
        self.jobs = JobLog(ui_dir)
        self.cancels = CancelRegistry()
        self._kinds: dict[str, tuple[Callable, Callable]] = {}

    def register(self, kind: str, work: Callable, finish: Callable) -> None:
        self._kinds[kind] = (work, finish)

    # --- a job's folder -----------------------------------------------------------------

    def folder_of(self, job: Job) -> Path:
        return self.jobs.folder_of(job.id)

    def _stash(self, job_id: str, key: str, path: Path) -> str:
        """Copy an uploaded file into the job folder; returns its path relative to the folder."""
        folder = self.jobs.folder_of(job_id)
        dest = folder / "inputs" / key / Path(path).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, dest)
        except OSError:
            shutil.copyfile(path, dest)
        return str(dest.relative_to(folder))

    def input(self, job: Job, key: str) -> Path | None:
        """The job's copy of the uploaded file ``key`` (None when it had none)."""
        rel = job.params.get("inputs", {}).get(key)
        if rel is None:
            return None
        path = self.jobs.folder_of(job.id) / rel
        if not path.is_file():
            raise UserInputError(f"the input file of job {job.id} is gone; start the job again")
        return path

    def drop_inputs(self, job: Job) -> None:
        shutil.rmtree(self.folder_of(job) / "inputs", ignore_errors=True)

    # --- running ------------------------------------------------------------------------

    def new_job(self, kind: str, title: str, params: dict,
                inputs: dict[str, Path | None] | None = None) -> Job:
        """Log a job (running) and copy its uploaded files into its folder."""
        job = self.jobs.start(kind, title, params)
        table = {key: self._stash(job.id, key, path) for key, path in (inputs or {}).items()
                 if path is not None}
        if table:
            job = self.jobs.update(job.id, params={**params, "inputs": table})
        return job

    def run(self, job: Job, *, sink: Sink | None, session: str, **extra):
        """Run a logged job with progress and cancellation, record how it ended, and return
        its kind's outcome."""
        work, finish = self._kinds[job.kind]
        token = self.cancels.open(session)
        relay = ProgressRelay(sink, token)
        try:
            outputs, payload = work(job, relay, **extra)
        except Cancelled:
            self.jobs.cancel(job.id)
            raise
        except PodiumError as exc:
            self.jobs.fail(job.id, str(exc))
            raise
        except Exception as exc:
            self.jobs.fail(job.id, f"internal error: {type(exc).__name__}: {exc}")
            raise
        finally:
            self.cancels.close(session, token)
        return finish(self.jobs.finish(job.id, outputs), payload)

    def cancel(self, session: str) -> str:
        if self.cancels.cancel(session):
            return "Cancelling… the job stops at its next step and leaves nothing half-written."
        return "Nothing is running."

    def retry(self, job_id: str, *, sink: Sink | None = None, session: str = "local"):
        """Run a failed, cancelled or interrupted job again, in place."""
        job = self.jobs.get(job_id or "")
        if job is None:
            raise UserInputError(f"no job {job_id!r}; pick one from the list")
        if not job.retryable:
            raise UserInputError(f"job {job.id} is {job.status}; only failed or cancelled jobs can be retried")
        job = self.jobs.update(job.id, status="running", error=None, finished=0.0)
        return self.run(job, sink=sink, session=session)

    # --- the Jobs tab -------------------------------------------------------------------

    def jobs_table(self) -> list[list]:
        rows = []
        for j in self.jobs.list():
            note = j.error or ""
            if j.status == "done":
                note = ", ".join(Path(p).name for k, p in j.outputs.items() if k in ("video", "zip", "avatar"))
            rows.append([j.id, j.when(), j.kind, j.title, j.status, note])
        return rows

    def job_choices(self) -> list[tuple[str, str]]:
        return [(f"{j.when()} · {j.kind} · {j.status} · {j.title[:50]}", j.id) for j in self.jobs.list()]

    def job_video(self, job_id: str) -> VideoOutcome:
        """The files of a finished render or dub, for the player."""
        job = self.jobs.get(job_id or "")
        if job is None:
            raise UserInputError(f"no job {job_id!r}; pick one from the list")
        video = Path(job.outputs.get("video", ""))
        if job.status != "done" or not video.is_file():
            why = job.error or f"it is {job.status}"
            raise UserInputError(f"job {job.id} has no video ({why})")
        opt = lambda k: Path(job.outputs[k]) if job.outputs.get(k) else None
        timeline = opt("timeline")
        meta = {}
        if timeline is not None and timeline.is_file():
            meta = json.loads(timeline.read_text("utf-8"))
        duration = meta.get("duration")
        msg = f"**{video.name}**" + (f" — {duration:.1f} s" if duration else "") + f" (job {job.id})"
        return VideoOutcome(job, video, opt("srt"), opt("vtt"), duration, timeline, msg)
