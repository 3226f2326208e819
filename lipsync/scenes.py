"""A sequence of scenes (a slide and its script each) rendered into one video with the
same presenter: course content as one file.

``scenes.yaml``::

    scenes:
      - slide: slides/intro.png
        script: Welcome to module one. [pause 0.5s] Here is what we cover.
      - slide: slides/safety.png
        script: First, safety. Always wear gloves.

Slide paths are relative to the YAML file. A scene without a slide shows the
presenter full frame.

Bounds, checked before anything is built from the file: at most
:data:`MAX_SCENES_FILE_BYTES`, no YAML anchors or aliases (``&name`` / ``*name``: a few
lines of them can stand for billions of items), at most :data:`MAX_SCENES` scenes, each
slide within the image bounds and all scripts together within the longest video.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from podium.avatars.library import AvatarRecord
from podium.common.errors import ScriptError, UserInputError
from podium.common.media import check_image_size, env_limit
from podium.common.progress import Progress, silent
from podium.lipsync.pipeline import (
    RenderOptions,
    RenderResult,
    check_render_request,
    draw_video,
    pad_utterance,
    speech_kwargs,
)
from podium.speech.utterance import Utterance

#: Silence between scenes, seconds: the slide changes in the middle of it.
SCENE_GAP_S = 0.8
#: Largest scenes file read, bytes.
MAX_SCENES_FILE_BYTES = 1 << 20
#: Most scenes in one video ($PODIUM_MAX_SCENES raises it).
MAX_SCENES = 200
#: Deepest nesting of a scenes file (it needs 4: scenes, the list, a scene, its values).
_MAX_YAML_DEPTH = 16


@dataclass(frozen=True)
class Scene:
    """One slide and what the presenter says over it."""

    script: str
    slide: Path | None = None


#: A line of three or more dashes separates scenes in a script (the studio's scene form).
_SEPARATOR = re.compile(r"^[ \t]*-{3,}[ \t]*$", re.M)


def split_script(script: str) -> list[str]:
    """Parts of a script separated by lines of ``---``; empty parts are dropped."""
    return [part.strip() for part in _SEPARATOR.split(script) if part.strip()]


def max_scenes() -> int:
    """The most scenes in one video (:data:`MAX_SCENES`, or $PODIUM_MAX_SCENES)."""
    return int(env_limit("PODIUM_MAX_SCENES", MAX_SCENES))


def _too_many_scenes(count: int, where: str) -> UserInputError:
    return UserInputError(f"{where} has {count} scenes; the most is {max_scenes()} (set "
                          "PODIUM_MAX_SCENES for more); split it into several videos")


def _read_yaml(path: Path):
    """The YAML document of ``path`` as plain Python data, refusing anchors and aliases while
    the node graph is composed, before any Python object is built from it."""
    import yaml

    class Loader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent, index):
            event = self.peek_event()
            mark = event.start_mark
            at = f"line {mark.line + 1}, column {mark.column + 1}"
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise UserInputError(f"'{path.name}' uses a YAML anchor or alias (&name / *name) at "
                                     f"{at}; write each scene out in full")
            if self.depth >= _MAX_YAML_DEPTH:
                raise UserInputError(f"'{path.name}' is nested too deeply at {at} to be a scenes "
                                     "file; see the README for the format")
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    with open(path, "rb") as fh:
        raw = fh.read(MAX_SCENES_FILE_BYTES + 1)
    if len(raw) > MAX_SCENES_FILE_BYTES:
        raise UserInputError(f"scenes file '{path.name}' is over {MAX_SCENES_FILE_BYTES // 1024} KB; "
                             "split it into several videos")
    loader = None
    try:
        loader = Loader(raw.decode("utf-8"))
        return loader.get_single_data()
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        raise UserInputError(f"'{path.name}' is not valid YAML{at}; see the README for the format") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_scenes(path: str | Path) -> list[Scene]:
    """Read a scenes YAML file (see the module docstring).

    Raises
    ------
    UserInputError
        Missing file, over :data:`MAX_SCENES_FILE_BYTES`, YAML anchors or aliases, bad YAML,
        no scenes or more than :data:`MAX_SCENES`, a scene without a script, a missing slide.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"scenes file not found: '{path}'")
    data = _read_yaml(path)
    items = data.get("scenes") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise UserInputError(f"'{path.name}' has no scenes; write a list under 'scenes:' with a "
                             "slide and a script each")
    if len(items) > max_scenes():
        raise _too_many_scenes(len(items), f"'{path.name}'")
    scenes = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("script"), (str, int, float)) \
                or not str(item["script"]).strip():
            raise UserInputError(f"scene {i} of '{path.name}' has no script")
        slide = item.get("slide")
        slide_path = None
        if slide:
            slide_path = (path.parent / str(slide)).resolve()
            if not slide_path.is_file():
                raise UserInputError(f"scene {i}: slide '{slide}' not found next to '{path.name}'")
        scenes.append(Scene(str(item["script"]), slide_path))
    return scenes


def check_scenes(scenes: list[Scene]) -> float:
    """Every check of a scenes request that needs no avatar: how many, each slide there and
    within the image bounds (its header only), each script's markup, and all of them together
    (with the gaps between) within the longest video. Returns that estimated length, seconds.

    Raises
    ------
    UserInputError
        The first problem, naming its scene.
    """
    from podium import speech
    from podium.speech.script import check_duration

    if len(scenes) > max_scenes():
        raise _too_many_scenes(len(scenes), "the video")
    segments: list = []
    for k, scene in enumerate(scenes, start=1):
        if scene.slide is not None:
            if not Path(scene.slide).is_file():
                raise UserInputError(f"scene {k}: slide '{scene.slide}' not found")
            try:
                check_image_size(scene.slide, "slide")
            except UserInputError as exc:
                raise UserInputError(f"scene {k}: {exc}") from None
        try:
            parsed = speech.parse_script(scene.script)
        except ScriptError as exc:
            raise ScriptError(f"scene {k}: {exc}") from None
        segments += ([speech.PauseSegment(SCENE_GAP_S)] if segments else []) + list(parsed)
    return check_duration(segments, what="the scenes together")


def join_utterances(utterances, *, gap_s: float = SCENE_GAP_S):
    """One utterance from several (same sample rate), ``gap_s`` of silence between them.

    Returns
    -------
    (Utterance, list of float)
        The joined utterance and each part's start time, seconds.
    """
    sr = utterances[0].sample_rate
    gap = np.zeros(int(round(gap_s * sr)), np.float32)
    pieces, phones, words, sentences, starts = [], [], [], [], []
    cursor = 0
    for i, u in enumerate(utterances):
        if u.sample_rate != sr:
            raise UserInputError("all scenes must use voices of the same sample rate")
        if i:
            pieces.append(gap)
            cursor += len(gap)
        t0 = cursor / sr
        starts.append(t0)
        move = lambda items: [replace(x, start=x.start + t0, end=x.end + t0) for x in items]
        phones += move(u.phonemes)
        words += move(u.words)
        sentences += move(u.sentences)
        pieces.append(u.audio)
        cursor += len(u.audio)
    joined = replace(utterances[0], audio=np.concatenate(pieces), phonemes=tuple(phones),
                     words=tuple(words), sentences=tuple(sentences))
    return joined, starts


def render_scenes(record: AvatarRecord, scenes: list[Scene], out: str | Path, *,
                  options: RenderOptions = RenderOptions(), progress: Progress = silent) -> RenderResult:
    """Render every scene's script over its slide, in order, into one video.

    Steps: 1. check the request and every scene's markup; 2. :func:`scenes_speech`;
    3. render, the slide changing in the pause before each scene.
    """
    out = check_render_request(out, options)
    check_scenes(scenes)  # every scene's slide, markup and length before any slow work
    utterance, slide_at = scenes_speech(record, scenes, options=options, progress=progress)
    return draw_video(record, utterance, out, options=options, progress=progress, slide_at=slide_at)


def scenes_speech(record: AvatarRecord, scenes: list[Scene], *, options: RenderOptions,
                  progress: Progress = silent) -> tuple[Utterance, Callable[[float], Path | None]]:
    """Synthesize each scene and join them with short pauses.

    Returns
    -------
    utterance : Utterance
        The whole soundtrack, padded, with every scene's timings.
    slide_at : callable
        ``slide_at(t)``: the slide shown at ``t`` seconds; it changes half-way through the
        pause before its scene.
    """
    from podium import speech

    kwargs = speech_kwargs(record, options)
    utts = []
    for i, scene in enumerate(scenes):
        progress("synthesizing speech", i, len(scenes))
        utts.append(speech.synthesize(scene.script, **kwargs))
    progress("synthesizing speech", len(scenes), len(scenes))
    joined, starts = join_utterances(utts)
    lead = 0.3
    utterance = pad_utterance(joined, before=lead)
    change = [0.0] + [lead + s - SCENE_GAP_S / 2 for s in starts[1:]]

    def slide_at(t: float):
        k = int(np.searchsorted(change, t, side="right")) - 1
        return scenes[max(k, 0)].slide

    return utterance, slide_at
