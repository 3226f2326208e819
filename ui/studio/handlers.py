"""What every button of the studio does, without gradio.

:class:`Studio` holds the avatar library, the job log and the cancel tokens of one
``PODIUM_HOME``. Its methods take plain values (paths of uploaded files, text,
numbers), raise :class:`common.errors.PodiumError` for anything the user can fix
and :class:`ui.studio.progress.Cancelled` when the user pressed Cancel, and return
small dataclasses the layout turns into components. Long work runs as a *job*
(:mod:`ui.studio.jobs`): logged before it starts, its inputs copied into the job's
folder, so a job cut off by a restart can be run again with Retry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from podium.avatars import AvatarLibrary, AvatarRecord, check_name
from podium.common.errors import PodiumError, UserInputError
from podium.common.progress import Progress, silent
from podium.limits import check_train_minutes
from podium.ui.studio import uploads
from podium.ui.studio.jobs import Job, JobLog
from podium.ui.studio.progress import CancelRegistry, Cancelled, ProgressRelay, Sink
from podium.ui.studio.quality import QualityReport, footage_report
from podium.ui.studio.timeline import save_timeline

#: What the script editor shows beside it.
MARKUP_HELP = """\
**Script markup**

- Write plain sentences; `.` `!` `?` end a sentence and give a natural pause.
- A blank line starts a new paragraph (a longer pause).
- `[pause 1s]`, `[pause 1.5s]` or `[pause 500ms]` insert an exact pause (up to 10 s each);
  the mouth rests closed.
- `{Nguyen|ŋwiən}` says one word in IPA; `{SQL|sequel}` with a respelling.
  Captions keep the written word. For words you use often: `podium lexicon add`.
- `[rate 80%]slower words[/rate]` (or `slow`, `fast`) changes the speed of a span.
- Plain SSML works too: `<speak>`, `<break time="500ms"/>`, `<phoneme ph="…">`,
  `<prosody rate="…">`, `<say-as interpret-as="characters">`, `<sub alias="…">`.
- In the Batch tab, `{{first_name}}` is replaced by that column of each CSV row;
  a variable without a value stops that row instead of being read aloud.

Captions (SRT/VTT) get one cue per sentence, at most 2 lines of 42 characters.
"""

PREVIEW_SCRIPT = "Hello! This is a short preview."
SIZES = {
    "the avatar's own": None,
    "1280×720 (landscape HD)": (1280, 720),
    "1920×1080 (landscape full HD)": (1920, 1080),
    "720×1280 (portrait)": (720, 1280),
    "1080×1080 (square)": (1080, 1080),
}
RENDERERS = ("auto", "warp", "neural")
LAYOUTS = ("source", "16:9", "9:16", "1:1")
_SLUG = re.compile(r"[^a-z0-9]+")
CACHE_MAX_AGE_S = 24 * 3600


def slug(text: str, *, fallback: str = "video", limit: int = 40) -> str:
    """A file-name stem from the first words of ``text``: ``welcome-to-the-course``."""
    text = re.sub(r"\[[^\]]*\]|\{\{[^}]*\}\}", " ", text.lower())
    out = _SLUG.sub("-", text).strip("-")
    if len(out) > limit:  # cut at a word boundary
        cut = out[: limit + 1]
        out = cut[: cut.rfind("-")] if "-" in cut else out[:limit]
    return out or fallback


def parse_size(label: str | None) -> tuple[int, int] | None:
    if not label:
        return None
    if label in SIZES:
        return SIZES[label]
    raise UserInputError(f"unknown output size {label!r}; pick one of: {', '.join(SIZES)}")


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


@dataclass(frozen=True)
class AvatarOutcome:
    job: Job
    record: AvatarRecord
    message: str


@dataclass(frozen=True)
class BatchPreview:
    """The rows of a batch CSV with their filled scripts.

    ``rows`` are :class:`lipsync.batch.BatchRow`; ``scripts`` holds the filled script
    of each row, or None where filling failed (``errors`` says why).
    """

    rows: tuple
    scripts: tuple
    errors: tuple
    columns: tuple

    def table(self) -> list[list]:
        return [[r.index, r.name, s if s is not None else f"⚠ {e}"]
                for r, s, e in zip(self.rows, self.scripts, self.errors)]

    def choices(self) -> list[tuple[str, int]]:
        return [(f"{r.index} · {r.name}", r.index) for r in self.rows]

    def ready(self) -> list[int]:
        """Row indices whose script could be filled (ticked by default)."""
        return [r.index for r, s in zip(self.rows, self.scripts) if s is not None]


@dataclass(frozen=True)
class BatchOutcome:
    job: Job
    results: tuple  # of lipsync.batch.RowResult
    zip: Path
    summary_csv: Path
    message: str


def status_table(preview_rows, selected: set[int], results: dict[int, object],
                 running: int | None = None) -> list[list]:
    """Per-row status of a batch: queued, rendering, rendered, failed or not selected."""
    out = []
    for r in preview_rows:
        res = results.get(r.index)
        if res is not None:
            state = res.status + (f": {res.error}" if res.error else "")
            dur = f"{res.duration:.1f} s" if res.duration else ""
            out.append([r.index, r.name, state, dur])
        elif r.index not in selected:
            out.append([r.index, r.name, "not selected", ""])
        elif r.index == running:
            out.append([r.index, r.name, "rendering…", ""])
        else:
            out.append([r.index, r.name, "queued", ""])
    return out


class Studio:
    """The studio of one library home (``--home``, ``$PODIUM_HOME`` or the default).

    Parameters
    ----------
    home : str or Path, optional
        Library root; the studio keeps its own files under ``home/ui``.
    """

    def __init__(self, home: str | Path | None = None):
        self.library = AvatarLibrary(home)
        self.home = self.library.home
        self.ui_dir = self.home / "ui"
        self.jobs = JobLog(self.ui_dir)
        self.previews_dir = self.ui_dir / "previews"
        self.cache_dir = self.ui_dir / "cache"
        self.cancels = CancelRegistry()
        self._preview_lock = threading.Lock()
        self._workers: dict[str, Callable] = {
            "avatar": self._work_avatar, "train": self._work_train, "render": self._work_render,
            "dub": self._work_dub, "batch": self._work_batch,
        }
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

    def _stash(self, job_id: str, key: str, path: Path) -> str:
        """Copy an uploaded file into the job folder; returns its path relative to the folder."""
        folder = self.jobs.folder_of(job_id)
        dest = folder / "inputs" / key / path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, dest)
        except OSError:
            shutil.copyfile(path, dest)
        return str(dest.relative_to(folder))

    def _input(self, job: Job, key: str) -> Path | None:
        rel = job.params.get("inputs", {}).get(key)
        if rel is None:
            return None
        path = self.jobs.folder_of(job.id) / rel
        if not path.is_file():
            raise UserInputError(f"the input file of job {job.id} is gone; start the job again")
        return path

    def _new_job(self, kind: str, title: str, params: dict, inputs: dict[str, Path] | None = None) -> Job:
        job = self.jobs.start(kind, title, params)
        table = {key: self._stash(job.id, key, path) for key, path in (inputs or {}).items()
                 if path is not None}
        if table:
            job = self.jobs.update(job.id, params={**params, "inputs": table})
        return job

    def _run(self, job: Job, *, sink: Sink | None, session: str, **extra):
        """Run a logged job with progress and cancellation; record how it ended."""
        token = self.cancels.open(session)
        relay = ProgressRelay(sink, token)
        try:
            outputs, payload = self._workers[job.kind](job, relay, **extra)
        except Cancelled as exc:
            self.jobs.cancel(job.id)
            if job.kind == "train":
                raise Cancelled("training stopped; its last checkpoint is kept, and training "
                                "again continues from it") from exc
            raise
        except PodiumError as exc:
            self.jobs.fail(job.id, str(exc))
            raise
        except Exception as exc:
            self.jobs.fail(job.id, f"internal error: {type(exc).__name__}: {exc}")
            raise
        finally:
            self.cancels.close(session, token)
        return self.jobs.finish(job.id, outputs), payload

    def cancel(self, session: str) -> str:
        if self.cancels.cancel(session):
            return "Cancelling… the job stops at its next step and leaves nothing half-written."
        return "Nothing is running."

    def retry(self, job_id: str, *, sink: Sink | None = None, session: str = "local"):
        """Run a failed, cancelled or interrupted job again, in place.

        Returns what the job's kind returns (:class:`VideoOutcome`, :class:`AvatarOutcome`,
        :class:`BatchOutcome` or a message).
        """
        job = self.jobs.get(job_id or "")
        if job is None:
            raise UserInputError(f"no job {job_id!r}; pick one from the list")
        if not job.retryable:
            raise UserInputError(f"job {job.id} is {job.status}; only failed or cancelled jobs can be retried")
        job = self.jobs.update(job.id, status="running", error=None, finished=0.0)
        return self._finish_kind(*self._run(job, sink=sink, session=session))

    def _finish_kind(self, job: Job, payload):
        if job.kind in ("render", "dub"):
            return self.job_video(job.id)
        if job.kind == "avatar":
            return AvatarOutcome(job, payload, self._created_message(payload))
        if job.kind == "batch":
            return payload if isinstance(payload, BatchOutcome) else self._batch_outcome(job, payload)
        return payload

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

    # --- avatars ------------------------------------------------------------------------

    def avatar_names(self) -> list[str]:
        return self.library.names()

    def _record(self, name: str | None) -> AvatarRecord:
        if not name:
            raise UserInputError("pick an avatar first (make one in the Avatars tab)")
        return self.library.get(name)

    def quality(self, upload, *, progress: Progress = silent) -> QualityReport:
        """The pre-flight report of an uploaded clip or photo (raises for a non-media file)."""
        return footage_report(upload, progress=progress)

    def create_avatar(self, upload, name: str, consent_name: str, consent_given: bool, *,
                      train_minutes: float | None = None, sink: Sink | None = None,
                      session: str = "local") -> AvatarOutcome:
        """Make an avatar from an uploaded clip or photo.

        Refused without both the consenting person's full name and the consent box
        ticked; the upload is probed before anything is stored.
        """
        name = (name or "").strip()
        consent_name = (consent_name or "").strip()
        check_name(name)
        if not consent_name or len(consent_name) < 3:
            raise UserInputError("enter the full name of the person shown, who consented to "
                                 "becoming an avatar")
        if not consent_given:
            raise UserInputError(f"tick the box confirming that {consent_name} consented to "
                                 "becoming an avatar")
        if self.library.exists(name):
            raise UserInputError(f"an avatar named '{name}' already exists; pick another name or "
                                 "delete it first")
        path, info, kind = uploads.check_footage_or_photo(upload)
        if train_minutes is not None:
            check_train_minutes(train_minutes)
        params = {"name": name, "consent": consent_name, "source_kind": kind,
                  "train_minutes": float(train_minutes) if train_minutes else None}
        job = self._new_job("avatar", f"avatar '{name}' from {path.name}", params, {"source": path})
        job, record = self._run(job, sink=sink, session=session)
        return AvatarOutcome(job, record, self._created_message(record))

    @staticmethod
    def _created_message(record: AvatarRecord) -> str:
        m = record.manifest
        w, h = m["frame_size"]
        trained = " Neural renderer trained." if m.get("renderer_training") else ""
        return (f"Created avatar **{record.name}** ({m['kind']}, {w}×{h}, {m['bank_size']} mouth "
                f"shapes, built in {m.get('build_seconds', 0):.0f} s).{trained}")

    def _work_avatar(self, job: Job, relay: ProgressRelay):
        from podium.avatars import create_from_footage, create_from_photo

        p = job.params
        src = self._input(job, "source")
        make = create_from_photo if p["source_kind"] == "photo" else create_from_footage
        record = make(self.library, p["name"], src, consent=p["consent"], progress=relay)
        if p["source_kind"] != "photo":
            from podium.lipsync.voice_match import store_suggested_voice

            if store_suggested_voice(self.library, record.name, src) is not None:
                record = self.library.get(record.name)
        if p.get("train_minutes"):
            record = self._train(record.name, p["train_minutes"], relay)
        # The library keeps what it needs (and the source's SHA-256); drop the copy.
        shutil.rmtree(self.jobs.folder_of(job.id) / "inputs", ignore_errors=True)
        return {"avatar": record.path}, record

    def train_avatar(self, name: str, minutes: float, *, sink: Sink | None = None,
                     session: str = "local") -> str:
        """Train (or continue training) an avatar's neural renderer for ``minutes``."""
        record = self._record(name)
        check_train_minutes(minutes)
        job = self._new_job("train", f"train '{record.name}' for {float(minutes):g} min",
                            {"name": record.name, "minutes": float(minutes)})
        job, message = self._run(job, sink=sink, session=session)
        return message

    def _train(self, name: str, minutes: float, relay: ProgressRelay) -> AvatarRecord:
        from podium.lipsync.neural import train_renderer

        record = self.library.get(name)
        report = train_renderer(record, minutes=float(minutes), progress=relay)
        # Warp stays the default renderer (see README); "neural" picks the trained one.
        return self.library.update_manifest(name, {"parts": {"renderer": "parts/renderer"},
                                                   "renderer_training": report.as_dict()})

    def _work_train(self, job: Job, relay: ProgressRelay):
        record = self._train(job.params["name"], job.params["minutes"], relay)
        summary = record.manifest["renderer_training"]
        msg = (f"Trained the neural renderer of **{record.name}**; pick renderer *neural* in the "
               f"Create tab to use it. ({json.dumps(summary)[:200]})")
        return {"avatar": record.path}, msg

    def delete_avatar(self, name: str) -> str:
        record = self._record(name)
        self.library.delete(record.name)
        for p in self.previews_dir.glob(f"{record.name}--*"):
            p.unlink(missing_ok=True)
        return f"Deleted avatar **{record.name}**."

    def avatar_details(self, name: str) -> str:
        if not name:
            return ""
        m = self.library.get(name).manifest
        w, h = m["frame_size"]
        c = m.get("consent", {})
        src = m.get("source", {})
        q = m.get("quality", {})
        lines = [f"**{name}** — {m['kind']}, {w}×{h}, {m.get('bank_size', '?')} mouth shapes",
                 f"- consent: {c.get('name', '?')} ({c.get('recorded_at', '?')})",
                 f"- source: `{src.get('file', c.get('source_file', '?'))}`"
                 + (f", {src['duration_s']:.1f} s" if src.get("duration_s") else "")]
        if q.get("face_ratio") is not None:
            lines.append(f"- face found in {q['face_ratio']:.0%} of frames, eyes "
                         f"{q.get('inter_ocular_px', 0):.0f} px apart")
        if (self.library.get(name).path / "parts" / "renderer" / "model.safetensors").is_file():
            lines.append("- neural renderer: trained")
        return "\n".join(lines)

    def preview_clip(self, name: str) -> Path:
        """A ~2 s clip of the avatar saying a line, rendered once and cached."""
        from podium.lipsync import RenderOptions, render_script

        record = self.library.get(name)
        key = hashlib.sha1(f"{record.name}|{record.manifest.get('created_at')}|"
                           f"{record.manifest.get('renderer')}".encode()).hexdigest()[:10]
        out = self.previews_dir / f"{record.name}--{key}.mp4"
        with self._preview_lock:
            if not out.is_file():
                self.previews_dir.mkdir(parents=True, exist_ok=True)
                for old in self.previews_dir.glob(f"{record.name}--*"):
                    old.unlink(missing_ok=True)
                render_script(record, PREVIEW_SCRIPT, out,
                              options=RenderOptions(crf=26, renderer="warp"))
                for side in (out.with_suffix(".srt"), out.with_suffix(".vtt")):
                    side.unlink(missing_ok=True)
        return out

    def gallery(self) -> list[tuple[str, str]]:
        """``(preview clip, caption)`` of every avatar; renders missing previews."""
        items = []
        for name in self.avatar_names():
            try:
                clip = self.preview_clip(name)
            except PodiumError:
                continue  # a damaged avatar: listed in the dropdowns, no preview
            m = self.library.get(name).manifest
            items.append((str(clip), f"{name} · {m['kind']}"))
        return items

    # --- speech -------------------------------------------------------------------------

    #: The voice dropdown's first choice: the avatar's stored voice, else the default one.
    OWN_VOICE = ""

    @classmethod
    def voice_choices(cls) -> list[tuple[str, str]]:
        from podium import speech

        return [("the avatar's own voice", cls.OWN_VOICE)] + \
            [(f"{v.name} ({v.id})", v.id) for v in speech.list_voices()]

    @staticmethod
    def _rate(rate) -> int | None:
        if rate in (None, "", 0):
            return None
        if isinstance(rate, float) and not rate.is_integer():
            raise UserInputError(f"speaking rate {rate} must be a whole number of words per minute")
        return int(rate)

    @staticmethod
    def _voice(voice: str | None) -> str | None:
        """A voice id the library knows, or None for the avatar's own voice."""
        from podium import speech

        return speech.resolve_voice(voice).id if voice else None

    def _speech_kwargs(self, record: AvatarRecord | None, voice: str | None, rate) -> dict:
        """What speech.synthesize gets in a render: voice, rate and pitch (given, else the
        avatar's) and the user's and avatar's lexicon."""
        from podium.lipsync import RenderOptions
        from podium.lipsync.pipeline import speech_kwargs

        return speech_kwargs(record, RenderOptions(voice=voice or None, rate_wpm=rate))

    def preview_audio(self, script: str, voice: str | None, rate=None, avatar: str | None = None) -> Path:
        """Synthesize the script only (no video) and return a WAV to play."""
        from podium import speech

        script = script or ""
        if not script.strip():
            raise UserInputError("the script is empty; type what the presenter should say")
        record = self.library.get(avatar) if avatar else None
        kwargs = self._speech_kwargs(record, self._voice(voice), self._rate(rate))
        key = hashlib.sha1(json.dumps([script, kwargs["voice"], kwargs["rate_wpm"], kwargs["pitch"],
                                       sorted(kwargs["lexicon"].entries.items())]).encode()).hexdigest()[:16]
        out = self.cache_dir / f"preview-{key}.wav"
        if not out.is_file():
            utterance = speech.synthesize(script, **kwargs)
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            utterance.write_wav(out)
        return out

    # --- render -------------------------------------------------------------------------

    def _look(self, look: dict | None) -> tuple[dict, dict]:
        """Validated layout, background and music settings, and the files they need.

        ``look`` keys (all optional): ``layout`` ("source", "16:9", "9:16", "1:1"),
        ``background`` (a colour), ``background_image``, ``slide``, ``music`` (uploaded
        files) and ``music_volume`` (dB, -60..0).
        """
        from podium.lipsync.layout import Layout, check_layout

        look = dict(look or {})
        aspect = look.get("layout") or "source"
        colour = (look.get("background") or "").strip() or None
        inputs: dict[str, Path] = {}
        if look.get("background_image"):
            if colour:
                raise UserInputError("give a background colour or a background image, not both")
            inputs["background"] = uploads.check_photo(look["background_image"], "a background image")[0]
        if look.get("slide"):
            inputs["slide"] = uploads.check_photo(look["slide"], "a slide image")[0]
        if look.get("music"):
            inputs["music"] = uploads.check_audio(look["music"], "a music file")[0]
        for k, slide in enumerate(look.get("slides") or [], start=1):
            inputs[f"scene-{k}"] = uploads.check_photo(slide, f"slide {k}")[0]
        volume = float(look.get("music_volume", -20.0) if look.get("music_volume") is not None else -20.0)
        if not -60.0 <= volume <= 0.0:
            raise UserInputError(f"music volume {volume:g} dB is out of range (-60 to 0)")
        bg = colour or (str(inputs["background"]) if "background" in inputs else None)
        check_layout(Layout(aspect=aspect, background=bg,
                            slide=str(inputs["slide"]) if "slide" in inputs else None))
        look_params = {"layout": aspect, "background": colour, "music_volume": volume}
        if look.get("slides"):
            look_params["scenes"] = len(look["slides"])
        return look_params, inputs

    def render(self, avatar: str, script: str, voice: str | None = None, rate=None, size: str | None = None,
               renderer: str = "auto", *, look: dict | None = None, sink: Sink | None = None,
               session: str = "local") -> VideoOutcome:
        """Synthesize ``script`` and render it with ``avatar``; MP4 + SRT + VTT + timeline.

        ``voice`` None or "" and ``rate`` None use the avatar's stored voice and rate.
        """
        from podium import speech

        record = self._record(avatar)
        script = script or ""
        if not script.strip():
            raise UserInputError("the script is empty; type what the presenter should say")
        if "{{" in script:
            raise UserInputError("the script has {{variables}}; fill them in, or use the Batch tab")
        speech.parse_script(script)  # markup errors before any slow work
        look_params, inputs = self._look(look)
        if look_params.get("scenes"):
            from podium.lipsync.scenes import split_script

            parts = split_script(script)
            if len(parts) != look_params["scenes"]:
                raise UserInputError(
                    f"{look_params['scenes']} slide(s) but the script has {len(parts)} part(s); separate "
                    "the script into one part per slide with a line of three dashes (---)")
            if "slide" in inputs:
                raise UserInputError("give one slide (presenter in a corner) or slides for scenes, not both")
        params = {"avatar": record.name, "script": script, "voice": self._voice(voice),
                  "rate": self._rate(rate), "size": parse_size(size), "renderer": self._renderer(renderer),
                  "look": look_params}
        one_line = " ".join(script.split())
        title = f"'{record.name}': {one_line[:60]}{'…' if len(one_line) > 60 else ''}"
        job = self._new_job("render", title, params, inputs)
        job, _ = self._run(job, sink=sink, session=session)
        return self.job_video(job.id)

    @staticmethod
    def _renderer(renderer: str | None) -> str:
        renderer = renderer or "auto"
        if renderer not in RENDERERS:
            raise UserInputError(f"unknown renderer {renderer!r}; use one of {', '.join(RENDERERS)}")
        return renderer

    def _options(self, job: Job):
        """The job's :class:`lipsync.RenderOptions`, its uploaded files resolved."""
        from podium.lipsync import RenderOptions
        from podium.lipsync.layout import Layout

        p = job.params
        look = p.get("look") or {}
        background = self._input(job, "background")
        slide = self._input(job, "slide")
        layout = Layout(aspect=look.get("layout") or "source",
                        background=look.get("background") or (str(background) if background else None),
                        slide=str(slide) if slide else None)
        size = tuple(p["size"]) if p.get("size") else None
        return RenderOptions(voice=p.get("voice") or None, rate_wpm=p.get("rate"), size=size,
                             renderer=p.get("renderer") or "auto", music=self._input(job, "music"),
                             music_volume_db=look.get("music_volume", -20.0), layout=layout)

    def _work_render(self, job: Job, relay: ProgressRelay):
        from podium.lipsync import render_script

        p = job.params
        record = self.library.get(p["avatar"])
        options = self._options(job)
        out = self.jobs.folder_of(job.id) / f"{record.name}-{slug(p['script'])}.mp4"
        n_scenes = (p.get("look") or {}).get("scenes")
        if n_scenes:
            from dataclasses import replace

            from podium.lipsync.scenes import Scene, render_scenes, split_script

            scenes = [Scene(part, self._input(job, f"scene-{k}"))
                      for k, part in enumerate(split_script(p["script"]), start=1)]
            if options.layout.aspect == "source":  # slides want a wide frame
                options = replace(options, layout=replace(options.layout, aspect="16:9"))
            result = render_scenes(record, scenes, out, options=options, progress=relay)
        else:
            result = render_script(record, p["script"], out, options=options, progress=relay)
        timeline = save_timeline(out.with_suffix(".timeline.json"), result.utterance, result.track)
        return {"video": result.video, "srt": result.srt, "vtt": result.vtt, "timeline": timeline}, result

    # --- dub ----------------------------------------------------------------------------

    def dub(self, avatar: str, video, *, audio=None, transcript: str = "", language: str = "",
            script: str = "", voice: str | None = None, rate=None, renderer: str = "auto",
            sink: Sink | None = None, session: str = "local") -> VideoOutcome:
        """Re-sync the lips of an uploaded video of the avatar's person to new speech:
        a recording (``audio``, optional ``transcript``) or a ``script`` spoken by ``voice``."""
        from podium import speech

        record = self._record(avatar)
        video_path, _ = uploads.check_video(video, "the video to dub")
        script = script or ""
        if audio is not None and script.strip():
            raise UserInputError("give either a recording or a script, not both")
        audio_path = None
        if audio is not None:
            audio_path, _ = uploads.check_audio(audio)
            if transcript and not transcript.strip():
                transcript = ""
        elif script.strip():
            speech.parse_script(script)
        else:
            raise UserInputError("give the new speech: upload a recording, or write a script")
        params = {"avatar": record.name, "transcript": (transcript or "").strip() or None,
                  "language": (language or "").strip() or None, "script": script if audio is None else "",
                  "voice": self._voice(voice), "rate": self._rate(rate), "renderer": self._renderer(renderer),
                  "size": None}
        title = f"dub '{video_path.name}' as '{record.name}'"
        job = self._new_job("dub", title, params, {"video": video_path, "audio": audio_path})
        job, _ = self._run(job, sink=sink, session=session)
        return self.job_video(job.id)

    def _work_dub(self, job: Job, relay: ProgressRelay):
        from podium import speech
        from podium.common.media import read_audio
        from podium.lipsync.dubbing import dub_video
        from podium.lipsync.pipeline import pad_utterance, speech_kwargs

        p = job.params
        record = self.library.get(p["avatar"])
        options = self._options(job)
        video = self._input(job, "video")
        audio = self._input(job, "audio")
        if audio is not None:
            relay("aligning the recording", 0, 1)
            kwargs = {"language": p["language"]} if p.get("language") else {}
            utterance = speech.align_recording(audio, transcript=p.get("transcript"), **kwargs)
            relay("aligning the recording", 1, 1)
            # Alignment works on 16 kHz; the video gets the recording at full quality.
            full = read_audio(audio, sample_rate=48000)
            if full.size:
                utterance = replace(utterance, audio=full, sample_rate=48000)
        else:
            relay("synthesizing speech", 0, 1)
            utterance = pad_utterance(speech.synthesize(p["script"], **speech_kwargs(record, options)))
            relay("synthesizing speech", 1, 1)
        out = self.jobs.folder_of(job.id) / f"{video.stem}-dubbed.mp4"
        result = dub_video(record, video, utterance, out, options=options, progress=relay)
        timeline = save_timeline(out.with_suffix(".timeline.json"), utterance, result.track)
        return {"video": result.video, "srt": result.srt, "vtt": result.vtt, "timeline": timeline}, result

    # --- batch --------------------------------------------------------------------------

    def batch_preview(self, csv_upload, template: str) -> BatchPreview:
        """Read the CSV and fill the template for every row (nothing is rendered)."""
        from podium.lipsync.batch import read_rows
        from podium.speech.variables import fill_variables, find_placeholders

        path, _ = uploads.check_csv(csv_upload)
        template = template or ""
        if not template.strip():
            raise UserInputError("the script template is empty; write the script with {{variables}}")
        find_placeholders(template)
        rows = read_rows(path)
        scripts, errors = [], []
        for row in rows:
            try:
                scripts.append(fill_variables(template, row.values))
                errors.append(None)
            except PodiumError as exc:
                scripts.append(None)
                errors.append(str(exc))
        columns = tuple(rows[0].values) if rows else ()
        return BatchPreview(tuple(rows), tuple(scripts), tuple(errors), columns)

    def render_batch(self, avatar: str, template: str, csv_upload, selected, voice: str | None = None,
                     rate=None, size: str | None = None, renderer: str = "auto", *,
                     look: dict | None = None, sink: Sink | None = None, on_row: Callable | None = None,
                     session: str = "local") -> BatchOutcome:
        """Render the selected rows one after another; a zip of the results at the end."""
        record = self._record(avatar)
        preview = self.batch_preview(csv_upload, template)
        chosen = sorted({int(i) for i in (selected or [])})
        known = {r.index for r in preview.rows}
        if not chosen:
            raise UserInputError("no rows are selected; tick the rows to render")
        if set(chosen) - known:
            raise UserInputError(f"rows {sorted(set(chosen) - known)} are not in the CSV; load it again")
        path, _ = uploads.check_csv(csv_upload)
        look_params, inputs = self._look(look)
        params = {"avatar": record.name, "template": template, "selected": chosen,
                  "voice": self._voice(voice), "rate": self._rate(rate), "size": parse_size(size),
                  "renderer": self._renderer(renderer), "look": look_params}
        job = self._new_job("batch", f"batch '{record.name}': {len(chosen)} of {len(known)} rows "
                                     f"from {path.name}", params, {"rows": path, **inputs})
        job, outcome = self._run(job, sink=sink, session=session, on_row=on_row)
        return outcome

    def _work_batch(self, job: Job, relay: ProgressRelay, on_row: Callable | None = None):
        from podium.lipsync.batch import read_rows, render_batch

        p = job.params
        record = self.library.get(p["avatar"])
        rows = [r for r in read_rows(self._input(job, "rows")) if r.index in set(p["selected"])]
        folder = self.jobs.folder_of(job.id)
        summary = render_batch(record, p["template"], rows, folder / "videos", options=self._options(job),
                               progress=relay, on_row=on_row)
        zip_path = folder / f"batch-{job.id}.zip"
        tmp = folder / f".{zip_path.name}.tmp"  # hidden: a restart removes it
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:  # MP4s do not compress
            for r in summary.results:
                if r.file is not None and Path(r.file).is_file():
                    for f in (Path(r.file), Path(r.file).with_suffix(".srt"), Path(r.file).with_suffix(".vtt")):
                        if f.is_file():
                            zf.write(f, f.name)
            zf.write(summary.summary_csv, summary.summary_csv.name)
        os.replace(tmp, zip_path)
        outcome = self._batch_outcome(job, summary, zip_path)
        return {"zip": zip_path, "summary": summary.summary_csv}, outcome

    @staticmethod
    def _batch_outcome(job: Job, summary, zip_path: Path | None = None) -> BatchOutcome:
        if isinstance(summary, BatchOutcome):
            return summary
        done = sum(r.status in ("rendered", "skipped") for r in summary.results)
        failed = sum(r.status == "failed" for r in summary.results)
        msg = f"Batch finished: {done} video(s) ready" + (f", {failed} failed" if failed else "") + "."
        return BatchOutcome(job, tuple(summary.results), zip_path, summary.summary_csv, msg)
