"""A small persistent job log: every render, dub, batch and avatar build, in one JSON file.

The log lives at ``$PODIUM_HOME/ui/jobs.json`` and is rewritten atomically (temp file
+ rename) after every change, so an app killed at any moment leaves either the old
or the new log. A job still marked *running* when the log is opened again was cut off
by a restart: it is shown as failed, with its parameters kept for a retry.
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

from podium.common.files import atomic_path

LOG_VERSION = 1
#: Failed and cancelled jobs kept in the log (with their input copies); older ones are
#: dropped. Finished jobs are never dropped: their videos stay listed until deleted by hand.
MAX_UNFINISHED = 100
INTERRUPTED = "interrupted: the studio stopped while this job was running; press Retry"

KINDS = ("avatar", "train", "render", "dub", "batch")
STATUSES = ("running", "done", "failed", "cancelled")


@dataclass(frozen=True)
class Job:
    """One unit of work the studio ran.

    Attributes
    ----------
    id : str
        ``YYYYmmdd-HHMMSS-xxxx``; also the name of its folder under ``ui/jobs``.
    kind : str
        One of :data:`KINDS`.
    title : str
        What the job list shows, e.g. ``render 'anna': Welcome to the course...``.
    status : str
        One of :data:`STATUSES`.
    params : dict
        JSON-ready inputs, enough to run the job again (input files are copied into
        the job folder and named here relative to it).
    outputs : dict
        Name -> path of every file the job produced (``video``, ``srt``, ``zip`` ...).
    error : str or None
        Why it failed, as shown to the user.
    created, finished : float
        Unix times; ``finished`` is 0.0 until the job ends.
    """

    id: str
    kind: str
    title: str
    status: str = "running"
    params: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    error: str | None = None
    created: float = 0.0
    finished: float = 0.0

    @property
    def retryable(self) -> bool:
        return self.status in ("failed", "cancelled")

    def when(self) -> str:
        return datetime.fromtimestamp(self.created).strftime("%Y-%m-%d %H:%M")


class JobLog:
    """The job list of one studio home, safe to use from several threads.

    Parameters
    ----------
    folder : Path
        ``$PODIUM_HOME/ui``; holds ``jobs.json`` and one folder per job under ``jobs/``.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / "jobs.json"
        self.jobs_dir = self.folder / "jobs"
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._load()

    # --- persistence --------------------------------------------------------------------

    def _load(self) -> None:
        if not self.path.is_file():
            return
        try:
            data = json.loads(self.path.read_text("utf-8"))
            jobs = [Job(**raw) for raw in data.get("jobs", [])]
        except (OSError, ValueError, TypeError):
            # A log we cannot read must not stop the studio; keep it for a human to look at.
            broken = self.path.with_name(f"jobs.broken-{int(time.time())}.json")
            self.path.replace(broken)
            return
        changed = False
        for job in jobs:
            if job.status == "running":
                job = replace(job, status="failed", error=INTERRUPTED, finished=job.finished or time.time())
                self._remove_partials(job.id)
                changed = True
            self._jobs[job.id] = job
        if changed:
            self._save()

    def _save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {"version": LOG_VERSION, "jobs": [asdict(j) for j in self._ordered()]}
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), "utf-8")

    def _ordered(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: (j.created, j.id), reverse=True)

    # --- queries ------------------------------------------------------------------------

    def list(self, *, kind: str | None = None) -> list[Job]:
        """Jobs, newest first."""
        with self._lock:
            return [j for j in self._ordered() if kind is None or j.kind == kind]

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def folder_of(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    # --- changes ------------------------------------------------------------------------

    def start(self, kind: str, title: str, params: dict) -> Job:
        """Record a new running job and create its folder."""
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        now = time.time()
        job_id = datetime.fromtimestamp(now).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
        job = Job(job_id, kind, title, "running", dict(params), {}, None, now, 0.0)
        with self._lock:
            self.folder_of(job_id).mkdir(parents=True, exist_ok=True)
            self._jobs[job_id] = job
            self._prune()
            self._save()
        return job

    def update(self, job_id: str, **changes) -> Job:
        with self._lock:
            job = replace(self._jobs[job_id], **changes)
            self._jobs[job_id] = job
            self._save()
            return job

    def finish(self, job_id: str, outputs: dict) -> Job:
        return self.update(job_id, status="done", outputs={k: str(v) for k, v in outputs.items()},
                           error=None, finished=time.time())

    def fail(self, job_id: str, error: str) -> Job:
        return self.update(job_id, status="failed", error=error, finished=time.time())

    def cancel(self, job_id: str) -> Job:
        return self.update(job_id, status="cancelled", error="cancelled by the user",
                           finished=time.time())

    def _remove_partials(self, job_id: str) -> None:
        """Delete the temporary files a killed job left (writers use hidden ``.name`` temps)."""
        folder = self.folder_of(job_id)
        if folder.is_dir():
            for p in folder.rglob(".*"):
                if p.is_file():
                    p.unlink(missing_ok=True)

    def remove(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)
            shutil.rmtree(self.folder_of(job_id), ignore_errors=True)
            self._save()

    def _prune(self) -> None:
        unfinished = [j for j in self._ordered() if j.status in ("failed", "cancelled")]
        for job in unfinished[MAX_UNFINISHED:]:
            self._jobs.pop(job.id, None)
            shutil.rmtree(self.folder_of(job.id), ignore_errors=True)
