"""The Avatars tab: the quality report of an upload, creating (and training) an avatar,
its details, the gallery of preview clips, deleting. Each slow step is one front-door call
(:meth:`podium.Library.create_avatar`, :meth:`podium.Avatar.train`,
:meth:`podium.Avatar.render`)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from podium.avatars import AvatarRecord
from podium.common.errors import AvatarDamaged, PodiumError, UserInputError
from podium.common.progress import Progress, silent
from podium.library import Avatar, Library
from podium.limits import check_train_minutes
from podium.lipsync.pipeline import RenderOptions
from podium.speech_input import Speech
from podium.ui.studio import uploads
from podium.ui.studio.choices import pick_avatar
from podium.ui.studio.jobs import Job
from podium.ui.studio.progress import Cancelled, ProgressRelay, Sink
from podium.ui.studio.quality import QualityReport, footage_report
from podium.ui.studio.runner import JobRunner

PREVIEW_SCRIPT = "Hello! This is a short preview."


@dataclass(frozen=True)
class AvatarOutcome:
    job: Job
    avatar: Avatar
    message: str

    @property
    def record(self) -> AvatarRecord:
        return self.avatar.record


def created_message(avatar: Avatar) -> str:
    m = avatar.manifest
    w, h = m.frame_size
    voice = (f" Voice: {m.speech_defaults.voice}, the nearest to the presenter's."
             if m.voice_match is not None and m.speech_defaults.voice else "")
    trained = " Neural renderer trained; it draws this avatar's videos." if m.renderer_training else ""
    return (f"Created avatar **{avatar.name}** ({m.kind}, {w}×{h}, {m.bank_size} mouth shapes, built in "
            f"{m.build_seconds:.0f} s).{voice}{trained}")


class AvatarActions:
    def __init__(self, library: Library, runner: JobRunner, previews_dir: Path):
        self.library = library
        self.runner = runner
        self.previews_dir = previews_dir
        self._preview_lock = threading.Lock()
        runner.register("avatar", self._work_create,
                        lambda job, avatar: AvatarOutcome(job, avatar, created_message(avatar)))
        runner.register("train", self._work_train, lambda job, message: message)

    def quality(self, upload, *, progress: Progress = silent) -> QualityReport:
        """The pre-flight report of an uploaded clip or photo (raises for a non-media file)."""
        return footage_report(upload, progress=progress)

    # --- create and train ---------------------------------------------------------------

    def create(self, upload, name: str, consent_name: str, consent_given: bool, *,
               train_minutes: float | None = None, sink: Sink | None = None,
               session: str = "local") -> AvatarOutcome:
        name = (name or "").strip()
        consent_name = (consent_name or "").strip()
        minutes = self.library.check_new_avatar(
            name, consent=consent_name, renderer="neural" if train_minutes is not None else "warp",
            train_minutes=train_minutes)
        if len(consent_name) < 3:
            raise UserInputError("enter the full name of the person shown, who consented to "
                                 "becoming an avatar")
        if not consent_given:
            raise UserInputError(f"tick the box confirming that {consent_name} consented to "
                                 "becoming an avatar")
        path, _, kind = uploads.check_footage_or_photo(upload)
        params = {"name": name, "consent": consent_name, "source_kind": kind, "train_minutes": minutes}
        job = self.runner.new_job("avatar", f"avatar '{name}' from {path.name}", params, {"source": path})
        return self.runner.run(job, sink=sink, session=session)

    def _work_create(self, job: Job, relay: ProgressRelay):
        p = job.params
        source = self.runner.input(job, "source")
        minutes = p.get("train_minutes") or None
        avatar = self.library.create_avatar(
            p["name"], **{"photo" if p["source_kind"] == "photo" else "footage": source},
            consent=p["consent"], renderer="neural" if minutes else "warp", train_minutes=minutes,
            progress=relay)
        self.runner.drop_inputs(job)  # the library keeps what it needs (and the source's SHA-256)
        return {"avatar": avatar.path}, avatar

    def train(self, name: str, minutes: float, *, sink: Sink | None = None, session: str = "local") -> str:
        avatar = pick_avatar(self.library, name)
        minutes = check_train_minutes(minutes)
        job = self.runner.new_job("train", f"train '{avatar.name}' for {minutes:g} min",
                                  {"name": avatar.name, "minutes": minutes})
        return self.runner.run(job, sink=sink, session=session)

    def _work_train(self, job: Job, relay: ProgressRelay):
        avatar = self.library.avatar(job.params["name"])
        try:
            report = avatar.train(job.params["minutes"], progress=relay)
        except Cancelled as exc:
            raise Cancelled("training stopped; its last checkpoint is kept, and training again "
                            "continues from it") from exc
        use = ("it draws this avatar's videos" if avatar.manifest.renderer == "neural"
               else "pick renderer *neural* in the Create tab to use it")
        return {"avatar": avatar.path}, f"Trained the neural renderer of **{avatar.name}**; {use}. ({report.summary()})"

    # --- show and delete ----------------------------------------------------------------

    def delete(self, name: str) -> str:
        if not name:
            raise UserInputError("pick an avatar first (make one in the Avatars tab)")
        self.library.delete_avatar(name)  # a damaged one too
        for p in self.previews_dir.glob(f"{name}--*"):
            p.unlink(missing_ok=True)
        return f"Deleted avatar **{name}**."

    def details(self, name: str) -> str:
        if not name:
            return ""
        try:
            m = self.library.avatar(name).manifest
        except AvatarDamaged as exc:
            return f"**{name}** — ⚠ {exc}. Delete it below and create it again."
        w, h = m.frame_size
        c, src, q, speech = m.consent, m.source, m.quality, m.speech_defaults
        lines = [f"**{name}** — {m.kind}, {w}×{h}, {m.bank_size} mouth shapes",
                 f"- consent: {c.name} ({c.recorded_at})",
                 f"- source: `{src.file or c.source_file}`"
                 + (f", {src.duration_s:.1f} s" if src.duration_s else "")]
        if q.get("face_ratio") is not None:
            lines.append(f"- face found in {q['face_ratio']:.0%} of frames, eyes "
                         f"{q.get('inter_ocular_px', 0):.0f} px apart")
        if speech.voice:
            lines.append(f"- voice: {speech.voice}" + (f", {speech.rate_wpm} words/min" if speech.rate_wpm else ""))
        if "renderer" in m.parts:
            lines.append("- neural renderer: trained" + (", the default" if m.renderer == "neural" else ""))
        return "\n".join(lines)

    def preview_clip(self, name: str) -> Path:
        """A ~2 s clip of the avatar saying a line, rendered once and cached."""
        avatar = self.library.avatar(name)
        m = avatar.manifest
        key = hashlib.sha1(f"{avatar.name}|{m.created_at}|{m.renderer}".encode()).hexdigest()[:10]
        out = self.previews_dir / f"{avatar.name}--{key}.mp4"
        with self._preview_lock:
            if not out.is_file():
                self.previews_dir.mkdir(parents=True, exist_ok=True)
                for old in self.previews_dir.glob(f"{avatar.name}--*"):
                    old.unlink(missing_ok=True)
                avatar.render(Speech.from_script(PREVIEW_SCRIPT), out, RenderOptions(crf=26, renderer="warp"))
                for side in (out.with_suffix(".srt"), out.with_suffix(".vtt")):
                    side.unlink(missing_ok=True)
        return out

    def gallery(self) -> list[tuple[str, str]]:
        """``(preview clip, caption)`` of every avatar; renders missing previews."""
        items = []
        for name in self.library.avatar_names():
            try:
                clip = self.preview_clip(name)
            except PodiumError:
                continue  # a damaged avatar: listed in the dropdowns, no preview
            items.append((str(clip), f"{name} · {self.library.avatar(name).manifest.kind}"))
        return items
