"""The Dub tab: new speech (a recording, or a script spoken by a voice) lip-synced onto an
uploaded video of the avatar's person, with :meth:`podium.Avatar.dub`."""

from __future__ import annotations

from podium.common.errors import UserInputError
from podium.library import Library
from podium.speech_input import Speech
from podium.ui.studio import uploads
from podium.ui.studio.choices import job_options, parse_rate, parse_renderer, parse_voice, pick_avatar, render_options
from podium.ui.studio.jobs import Job
from podium.ui.studio.progress import ProgressRelay, Sink
from podium.ui.studio.runner import JobRunner, VideoOutcome, video_outputs


class DubActions:
    def __init__(self, library: Library, runner: JobRunner):
        self.library = library
        self.runner = runner
        runner.register("dub", self._work, lambda job, result: runner.job_video(job.id))

    def dub(self, avatar: str, video, *, audio=None, transcript: str = "", language: str = "",
            script: str = "", voice: str | None = None, rate=None, renderer: str = "auto",
            sink: Sink | None = None, session: str = "local") -> VideoOutcome:
        who = pick_avatar(self.library, avatar)
        video_path, _ = uploads.check_video(video, "the video to dub")
        script = script or ""
        if audio is not None and script.strip():
            raise UserInputError("give either a recording or a script, not both")
        audio_path = None
        if audio is not None:
            audio_path, _ = uploads.check_audio(audio)
            Speech.from_recording(audio_path, transcript=transcript, language=language)
        elif script.strip():
            Speech.from_script(script)
        else:
            raise UserInputError("give the new speech: upload a recording, or write a script")
        params = {"avatar": who.name, "transcript": (transcript or "").strip() or None,
                  "language": (language or "").strip() or None, "script": script if audio is None else "",
                  "voice": parse_voice(self.library, voice), "rate": parse_rate(rate),
                  "renderer": parse_renderer(renderer), "size": None}
        who.check_options(render_options(params, {}))
        job = self.runner.new_job("dub", f"dub '{video_path.name}' as '{who.name}'", params,
                                  {"video": video_path, "audio": audio_path})
        return self.runner.run(job, sink=sink, session=session)

    def _work(self, job: Job, relay: ProgressRelay):
        p = job.params
        who = self.library.avatar(p["avatar"])
        video = self.runner.input(job, "video")
        audio = self.runner.input(job, "audio")
        if audio is not None:
            speech = Speech.from_recording(audio, transcript=p.get("transcript"), language=p.get("language"))
        else:
            speech = Speech.from_script(p["script"])
        out = self.runner.folder_of(job) / f"{video.stem}-dubbed.mp4"
        result = who.dub(video, speech, out, job_options(self.runner, job), progress=relay)
        return video_outputs(result), result
