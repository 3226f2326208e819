"""The Create tab: the audio preview (:meth:`podium.Avatar.preview_audio`) and the render of
a script (:meth:`podium.Avatar.render`) or of scenes, one slide per part of the script
(:meth:`podium.Avatar.render_scenes`)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

from podium.common.errors import UserInputError
from podium.library import Library
from podium.lipsync.pipeline import RenderOptions
from podium.lipsync.scenes import Scene, split_script
from podium.speech_input import Speech
from podium.ui.studio.choices import (
    job_options,
    parse_look,
    parse_rate,
    parse_renderer,
    parse_size,
    parse_voice,
    pick_avatar,
    render_options,
)
from podium.ui.studio.jobs import Job
from podium.ui.studio.progress import ProgressRelay, Sink
from podium.ui.studio.runner import JobRunner, VideoOutcome, video_outputs

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

_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, *, fallback: str = "video", limit: int = 40) -> str:
    """A file-name stem from the first words of ``text``: ``welcome-to-the-course``."""
    text = re.sub(r"\[[^\]]*\]|\{\{[^}]*\}\}", " ", text.lower())
    out = _SLUG.sub("-", text).strip("-")
    if len(out) > limit:  # cut at a word boundary
        cut = out[: limit + 1]
        out = cut[: cut.rfind("-")] if "-" in cut else out[:limit]
    return out or fallback


def _script(script: str | None) -> str:
    script = script or ""
    if not script.strip():
        raise UserInputError("the script is empty; type what the presenter should say")
    return script


class RenderActions:
    def __init__(self, library: Library, runner: JobRunner, cache_dir: Path):
        self.library = library
        self.runner = runner
        self.cache_dir = cache_dir
        runner.register("render", self._work, lambda job, result: runner.job_video(job.id))

    def preview_audio(self, script: str, voice: str | None, rate=None, avatar: str | None = None) -> Path:
        """The soundtrack only (no video) as a WAV, cached per script and settings."""
        script = _script(script)
        who = pick_avatar(self.library, avatar)
        speech = Speech.from_script(script)
        options = RenderOptions(voice=parse_voice(self.library, voice), rate_wpm=parse_rate(rate))
        key = hashlib.sha1(json.dumps([  # what the sound depends on: the same settings, the same file
            script, who.speech_settings(options).to_dict(), sorted(self.library.lexicon().entries.items()),
            sorted(self.library.lexicon(who.name).entries.items())]).encode()).hexdigest()[:16]
        out = self.cache_dir / f"preview-{key}.wav"
        if not out.is_file():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            who.preview_audio(speech, out, options)
        return out

    def render(self, avatar: str, script: str, voice: str | None = None, rate=None, size: str | None = None,
               renderer: str = "auto", *, look: dict | None = None, sink: Sink | None = None,
               session: str = "local") -> VideoOutcome:
        who = pick_avatar(self.library, avatar)
        script = _script(script)
        if "{{" in script:
            raise UserInputError("the script has {{variables}}; fill them in, or use the Batch tab")
        Speech.from_script(script)  # markup errors before any slow work
        look_params, inputs = parse_look(look)
        n_scenes = look_params.get("scenes")
        if n_scenes:
            parts = split_script(script)
            if len(parts) != n_scenes:
                raise UserInputError(
                    f"{n_scenes} slide(s) but the script has {len(parts)} part(s); separate the script "
                    "into one part per slide with a line of three dashes (---)")
            if "slide" in inputs:
                raise UserInputError("give one slide (presenter in a corner) or slides for scenes, not both")
        params = {"avatar": who.name, "script": script, "voice": parse_voice(self.library, voice),
                  "rate": parse_rate(rate), "size": parse_size(size), "renderer": parse_renderer(renderer),
                  "look": look_params}
        who.check_options(render_options(params, inputs))
        one_line = " ".join(script.split())
        title = f"'{who.name}': {one_line[:60]}{'…' if len(one_line) > 60 else ''}"
        job = self.runner.new_job("render", title, params, inputs)
        return self.runner.run(job, sink=sink, session=session)

    def _work(self, job: Job, relay: ProgressRelay):
        p = job.params
        who = self.library.avatar(p["avatar"])
        options = job_options(self.runner, job)
        out = self.runner.folder_of(job) / f"{who.name}-{slug(p['script'])}.mp4"
        if (p.get("look") or {}).get("scenes"):
            scenes = [Scene(part, self.runner.input(job, f"scene-{k}"))
                      for k, part in enumerate(split_script(p["script"]), start=1)]
            if options.layout.aspect == "source":  # slides want a wide frame
                options = replace(options, layout=replace(options.layout, aspect="16:9"))
            result = who.render_scenes(scenes, out, options, progress=relay)
        else:
            result = who.render(Speech.from_script(p["script"]), out, options, progress=relay)
        return video_outputs(result), result
