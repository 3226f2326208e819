"""The front door: a library of avatars, and what an avatar can make.

Every interface (the command line, the studio, the REST API and job workers to come) is a
thin adapter over these calls. Each call checks its whole request first — names, files,
options, markup, the voice — and only then starts the slow steps, in order.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from podium.avatars import AvatarLibrary, AvatarRecord, check_name
from podium.avatars.manifest import RENDERERS as AVATAR_RENDERERS
from podium.avatars.manifest import AvatarManifest, SpeechDefaults
from podium.common.errors import UserInputError
from podium.common.progress import Progress, silent
from podium.limits import check_render_options, check_train_minutes
from podium.lipsync.pipeline import RenderOptions, RenderResult
from podium.speech_input import Speech

#: Sample rate a recording is put into the video at (alignment itself works on 16 kHz).
RECORDING_RATE = 48000


def voices(*, language: str | None = None, home: str | Path | None = None) -> list:
    """Every voice Podium can speak with (:class:`podium.speech.VoiceInfo`), neural ones
    first; ``home`` adds the Piper voices dropped into that library's ``voices/`` folder."""
    from podium import speech

    found = speech.list_voices(language=language, home=home)
    return sorted(found, key=lambda v: (v.engine == "espeak-ng", v.id))


class Library:
    """The avatars, lexicon and dropped-in voices under one folder.

    Parameters
    ----------
    home : str or Path, optional
        The library folder; default ``$PODIUM_HOME``, else ``~/.local/share/podium``.

    Examples
    --------
    >>> library = podium.Library("~/podium")                       # doctest: +SKIP
    >>> anna = library.create_avatar("anna", footage="anna.mp4", consent="Anna Example")
    >>> anna.render(podium.Speech.from_script("Hello!"), "hello.mp4")
    """

    def __init__(self, home: str | Path | None = None):
        self._store = AvatarLibrary(home)
        self.home = self._store.home.absolute()

    def __repr__(self) -> str:
        return f"Library('{self.home}', avatars={self.avatar_names()})"

    # --- avatars ------------------------------------------------------------------------

    @property
    def store(self) -> AvatarLibrary:
        """The on-disk avatar store underneath (:class:`podium.avatars.AvatarLibrary`)."""
        return self._store

    def avatar_names(self) -> list[str]:
        return self._store.names()

    def avatar(self, name: str) -> "Avatar":
        """The avatar called ``name``; :class:`AvatarError` names the known ones if unknown."""
        return Avatar(self, self._store.get(name))

    def exists(self, name: str) -> bool:
        return self._store.exists(name)

    def delete_avatar(self, name: str) -> None:
        self._store.delete(name)

    def check_new_avatar(self, name: str, *, consent: str, renderer: str = "warp",
                         train_minutes: float | None = None) -> float | None:
        """The checks of :meth:`create_avatar` that need no source file (name free, consent,
        renderer, training time), for an interface that checks a request before it queues
        it. Returns the training time as a float (or None)."""
        from podium.avatars.create import check_consent_name

        check_name(name)
        check_consent_name(consent)
        if renderer not in AVATAR_RENDERERS:
            raise UserInputError(f"unknown renderer '{renderer}'; use {' or '.join(AVATAR_RENDERERS)}")
        if train_minutes is not None:
            if renderer != "neural":
                raise UserInputError("a training time is for the neural renderer (the warp renderer "
                                     "needs no training)")
            train_minutes = check_train_minutes(train_minutes)
        if self._store.exists(name):
            raise UserInputError(f"an avatar named '{name}' already exists; pick another name or "
                                 f"delete it first")
        return train_minutes

    def create_avatar(self, name: str, *, footage: str | Path | None = None,
                      photo: str | Path | None = None, consent: str,
                      renderer: str = "warp", train_minutes: float | None = None,
                      progress: Progress = silent) -> "Avatar":
        """Make an avatar from footage of a person talking, or from one portrait photo.

        Steps: 1. check the request; 2. build the avatar (tracking, mouth model and bank,
        base loop); 3. footage: store the voice nearest the presenter's as its default;
        4. ``renderer="neural"``: train its network and make it the avatar's renderer.

        Parameters
        ----------
        name : str
            1-64 letters, digits, '-' or '_'.
        footage, photo : str or Path
            Exactly one: 3 s - 10 min of the presenter facing the camera, or a portrait.
        consent : str
            Full name of the person shown, who agreed to become an avatar.
        renderer : str
            "warp" (ready at once) or "neural" (also trains, ``train_minutes`` or 9 min).
        train_minutes : float, optional
            Training budget for ``renderer="neural"``, 0-120 minutes.

        Raises
        ------
        UserInputError
            Bad name, taken name, no consent, missing or unusable source, bad options.
        """
        from podium.avatars import create_from_footage, create_from_photo

        # 1. the request
        check_name(name)
        if (footage is None) == (photo is None):
            raise UserInputError("give the avatar's source: footage or a photo (one of them)")
        source = Path(footage if footage is not None else photo)
        if not source.is_file():
            raise UserInputError(f"{'footage' if footage is not None else 'photo'} not found: "
                                 f"'{source}'; check the path")
        train_minutes = self.check_new_avatar(name, consent=consent, renderer=renderer,
                                              train_minutes=train_minutes)
        # 2. the avatar
        if footage is not None:
            create_from_footage(self._store, name, source, consent=consent, progress=progress)
            # 3. a voice that fits the presenter
            from podium.lipsync.voice_match import store_suggested_voice

            progress("matching a voice to the presenter", 0, 1)
            store_suggested_voice(self._store, name, source)
            progress("matching a voice to the presenter", 1, 1)
        else:
            create_from_photo(self._store, name, source, consent=consent, progress=progress)
        avatar = self.avatar(name)
        # 4. the neural renderer, asked for at creation, becomes the avatar's own
        if renderer == "neural":
            avatar.train(minutes=train_minutes, make_default=True, progress=progress)
            avatar = self.avatar(name)
        return avatar

    # --- voices and pronunciation -------------------------------------------------------

    def voices(self, *, language: str | None = None) -> list:
        """:func:`podium.voices` with this library's dropped-in Piper voices."""
        return voices(language=language, home=self.home)

    def resolve_voice(self, voice: str):
        """The :class:`VoiceInfo` a voice id (or language code, or name) means here."""
        from podium import speech

        return speech.resolve_voice(voice, home=self.home)

    def lexicon_path(self, avatar: str | None = None) -> Path:
        """The lexicon file of the library (every video) or of one avatar (its videos)."""
        from podium.speech.lexicon import FILE_NAME

        return (self._store.get(avatar).path if avatar else self.home) / FILE_NAME

    def lexicon(self, avatar: str | None = None):
        """The :class:`podium.speech.lexicon.Lexicon` of the library or of one avatar."""
        from podium.speech.lexicon import Lexicon

        return Lexicon.load(self.lexicon_path(avatar))

    def add_word(self, word: str, pronunciation: str, *, avatar: str | None = None) -> str:
        """Store how ``word`` is said (IPA or a respelling); returns the stored pronunciation."""
        from podium import speech

        path = self.lexicon_path(avatar)
        lexicon = self.lexicon(avatar)
        lexicon.add(word, pronunciation)
        stored = lexicon.entries[word.strip().lower()]
        # Said once now, so an entry no voice can say is refused here, not in every later render.
        trial = type(lexicon)({word.strip().lower(): stored})
        try:
            speech.synthesize(word.strip(), voice=speech.FAST_VOICE, lexicon=trial)
        except UserInputError as exc:
            raise UserInputError(f"'{word}' as {stored!r} cannot be spoken: {exc}") from None
        lexicon.save(path)
        return stored

    def remove_word(self, word: str, *, avatar: str | None = None) -> None:
        from podium.speech.lexicon import Lexicon

        path = self.lexicon_path(avatar)
        lexicon = Lexicon.load(path, check=False)  # a bad entry must be removable
        lexicon.remove(word)
        lexicon.save(path)

    # --- batches ------------------------------------------------------------------------

    def batch(self, avatar: "str | Avatar", template: str, rows, out_dir: str | Path, *,
              options: RenderOptions = RenderOptions(), name_column: str | None = None,
              progress: Progress = silent, on_row: Callable | None = None):
        """One video per row, ``{{variables}}`` in ``template`` filled from its columns.

        Parameters
        ----------
        avatar : str or Avatar
        template : str
            Script with ``{{column}}`` variables.
        rows : str, Path or sequence of BatchRow
            A CSV file with a header row, or rows already read (a subset renders only those).
        out_dir : str or Path
            Gets ``NAME.mp4`` (+ captions) per row and ``summary.csv``; rows whose video is
            there already are skipped.
        on_row : callable, optional
            Called with each row's :class:`RowResult` as soon as it is done.

        Returns
        -------
        BatchSummary
        """
        from podium.lipsync.batch import read_rows, render_batch
        from podium.speech.variables import find_placeholders

        avatar = avatar if isinstance(avatar, Avatar) else self.avatar(avatar)
        if not isinstance(template, str) or not template.strip():
            raise UserInputError("the script template is empty; write the script with {{variables}}")
        find_placeholders(template)
        options = avatar.check_options(options)
        if isinstance(rows, (str, Path)):
            rows = read_rows(rows, name_column=name_column)
        return render_batch(avatar.record, template, list(rows), out_dir, options=options,
                            progress=progress, on_row=on_row)


def _refuse_overwriting_inputs(out: Path, speech: "Speech | None", options: RenderOptions,
                               *more: str | Path | None) -> None:
    """An output that is also one of the request's inputs would be overwritten while read."""
    inputs = [speech.recording if speech is not None else None, options.music,
              options.layout.slide, options.layout.background, *more]
    target = out.resolve()
    for path in inputs:
        if path is not None and Path(path).exists() and Path(path).resolve() == target:
            raise UserInputError(f"the output '{out}' is also an input of this video; give another "
                                 "output file")


class Avatar:
    """One avatar of a :class:`Library`, and what it makes: videos, dubs, its renderer.

    Get one from :meth:`Library.avatar` or :meth:`Library.create_avatar`.
    """

    def __init__(self, library: Library, record: AvatarRecord):
        self.library = library
        self.record = record

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def path(self) -> Path:
        return self.record.path

    @property
    def manifest(self) -> AvatarManifest:
        return self.record.manifest

    def __repr__(self) -> str:
        m = self.manifest
        return (f"Avatar({self.name!r}, {m.kind}, {m.frame_size[0]}x{m.frame_size[1]}, "
                f"renderer={m.renderer!r}, voice={m.speech_defaults.voice!r})")

    def reload(self) -> "Avatar":
        """This avatar as stored now (after another process changed it)."""
        return self.library.avatar(self.name)

    # --- checks -------------------------------------------------------------------------

    def check_options(self, options: RenderOptions) -> RenderOptions:
        """The options checked (ranges, files, layout) and the voice they (or the avatar's
        defaults) name, resolved: returned as its exact id, so it is looked up once."""
        from podium.lipsync.pipeline import speech_kwargs

        options = check_render_options(options)
        info = self.library.resolve_voice(speech_kwargs(self.record, options)["voice"])
        return replace(options, voice=info.id)

    # --- speech -------------------------------------------------------------------------

    def speech_settings(self, options: RenderOptions = RenderOptions()) -> SpeechDefaults:
        """The voice, rate and pitch a script is spoken with under ``options``: the options',
        else the avatar's stored ones, else the default voice at its own rate and pitch."""
        from podium.lipsync.pipeline import speech_kwargs

        k = speech_kwargs(self.record, options)
        return SpeechDefaults(voice=k["voice"], rate_wpm=k["rate_wpm"], pitch=k["pitch"])

    def speak(self, speech: Speech, options: RenderOptions = RenderOptions(), *,
              progress: Progress = silent):
        """The :class:`podium.speech.Utterance` a video of ``speech`` lip-syncs to.

        A script is synthesized with the options' voice, rate and pitch (else the avatar's,
        else the default) and the library's and avatar's lexicon, with a short rest at both
        ends; a recording is aligned (phone timings) and kept at 48 kHz.
        """
        from podium import speech as sp

        if not isinstance(speech, Speech):
            raise UserInputError(f"speak takes a podium.Speech, got {type(speech).__name__}")
        if speech.is_recording:
            from podium.common.media import read_audio
            from podium.speech_input import check_recording

            check_recording(speech.recording)  # audio stream and length, from its headers
            progress("aligning the recording", 0, 1)
            utterance = sp.align_recording(speech.recording, transcript=speech.transcript,
                                           language=speech.language)
            progress("aligning the recording", 1, 1)
            full = read_audio(speech.recording, sample_rate=RECORDING_RATE)
            return replace(utterance, audio=full, sample_rate=RECORDING_RATE) if full.size else utterance
        from podium.lipsync.pipeline import pad_utterance, speech_kwargs

        progress("synthesizing speech", 0, 1)
        utterance = sp.synthesize(speech.segments or speech.script, **speech_kwargs(self.record, options))
        progress("synthesizing speech", 1, 1)
        return pad_utterance(utterance)

    def preview_audio(self, speech: Speech, out: str | Path,
                      options: RenderOptions = RenderOptions(), *, progress: Progress = silent) -> Path:
        """Write only the soundtrack (a WAV, loudness and music as in the video) to check
        pronunciation; returns its path."""
        from podium.common.files import atomic_path
        from podium.lipsync.pipeline import read_music, write_soundtrack

        out = Path(out)
        if out.suffix.lower() != ".wav":
            raise UserInputError(f"an audio preview is a .wav file, got '{out}'")
        if not out.parent.is_dir():
            raise UserInputError(f"output folder '{out.parent}' does not exist; create it first")
        options = self.check_options(options)
        utterance = self.speak(speech, options, progress=progress)
        with atomic_path(out) as tmp:
            write_soundtrack(tmp, utterance, options, music=read_music(utterance, options))
        return out

    # --- videos -------------------------------------------------------------------------

    def render(self, speech: Speech, out: str | Path, options: RenderOptions = RenderOptions(), *,
               progress: Progress = silent) -> RenderResult:
        """A video of this avatar saying ``speech``: ``out`` (.mp4) with ``.srt`` and ``.vtt``.

        Steps: 1. check the request (output path, options, voice); 2. speech -> utterance
        (:meth:`speak`); 3. mouth track, frames, encoding, captions.
        """
        from podium.lipsync.pipeline import check_output_path, draw_video

        # 1. the request
        options = self.check_options(options)
        out = check_output_path(out)
        _refuse_overwriting_inputs(out, speech, options)
        # 2. speech
        utterance = self.speak(speech, options, progress=progress)
        # 3. the video
        return draw_video(self.record, utterance, out, options=options, progress=progress)

    def render_scenes(self, scenes: Sequence | str | Path, out: str | Path,
                      options: RenderOptions = RenderOptions(), *,
                      progress: Progress = silent) -> RenderResult:
        """One video of several scenes (a slide and a script each), the slide changing
        between them.

        Parameters
        ----------
        scenes : sequence of podium.lipsync.scenes.Scene, or a scenes YAML file
        """
        from podium.lipsync.pipeline import check_output_path, draw_video
        from podium.lipsync.scenes import Scene, check_scenes, load_scenes, scenes_speech

        # 1. the request
        if isinstance(scenes, (str, Path)):
            scenes = load_scenes(scenes)
        scenes = list(scenes)
        if not scenes or not all(isinstance(s, Scene) for s in scenes):
            raise UserInputError("give the scenes: a list of Scene(script, slide) or a scenes file")
        check_scenes(scenes)  # count, slides (headers), markup, total length: before any slow work
        options = self.check_options(options)
        out = check_output_path(out)
        _refuse_overwriting_inputs(out, None, options, *(scene.slide for scene in scenes))
        # 2. speech, 3. the video
        utterance, slide_at = scenes_speech(self.record, scenes, options=options, progress=progress)
        return draw_video(self.record, utterance, out, options=options, progress=progress,
                          slide_at=slide_at)

    def dub(self, video: str | Path, speech: Speech, out: str | Path,
            options: RenderOptions = RenderOptions(), *, progress: Progress = silent) -> RenderResult:
        """Re-sync the lips of ``video`` (of this avatar's person) to ``speech``: only the
        mouth region is redrawn; longer speech continues on the base loop."""
        from podium.lipsync.dubbing import check_dub_video, draw_dub
        from podium.lipsync.pipeline import check_output_path

        # 1. the request
        options = self.check_options(options)
        out = check_output_path(out)
        video = check_dub_video(video, out)
        _refuse_overwriting_inputs(out, speech, options)
        # 2. speech, 3. the video
        utterance = self.speak(speech, options, progress=progress)
        return draw_dub(self.record, video, utterance, out, options=options, progress=progress)

    # --- the avatar's settings and renderer ---------------------------------------------

    def set_speech_defaults(self, *, voice: str | None = None, rate_wpm: int | None = None,
                            pitch: float | None = None, clear: bool = False) -> SpeechDefaults:
        """Store the voice, rate and pitch every video of this avatar uses (None keeps the
        stored value; ``clear`` forgets them all). Returns what is stored now."""
        from podium import speech as sp

        if not (voice or rate_wpm is not None or pitch is not None or clear):
            raise UserInputError("give a voice, a rate and/or a pitch to store, or clear")
        info = self.library.resolve_voice(voice) if voice else None
        if rate_wpm is not None or pitch is not None:
            # A rate and pitch the voice takes (Kokoro has no pitch control: a clear error).
            check_voice = info.id if info else (self.manifest.speech_defaults.voice or sp.DEFAULT_VOICE)
            sp.synthesize("Check.", voice=check_voice, rate_wpm=rate_wpm, pitch=pitch,
                          home=self.library.home)

        def change(m: AvatarManifest) -> AvatarManifest:
            if clear:
                return replace(m, speech_defaults=SpeechDefaults())
            d = m.speech_defaults
            return replace(m, speech_defaults=SpeechDefaults(
                voice=info.id if info else d.voice,
                rate_wpm=rate_wpm if rate_wpm is not None else d.rate_wpm,
                pitch=pitch if pitch is not None else d.pitch))

        self.record = self.library.store.update_manifest(self.name, change)
        return self.manifest.speech_defaults

    def train(self, minutes: float | None = None, *, make_default: bool = False,
              progress: Progress = silent):
        """Train (or continue training) this avatar's neural renderer.

        Parameters
        ----------
        minutes : float, optional
            Time budget, 0-120 minutes; default the model's (9 min).
        make_default : bool
            Render with the network from now on (else pick it per video with
            ``RenderOptions(renderer="neural")``: the warp renderer is as good on the
            reconstruction benchmark, and faster).

        Returns
        -------
        TrainReport
        """
        from podium.lipsync.neural import train_renderer

        if minutes is not None:
            minutes = check_train_minutes(minutes)
        report = train_renderer(self.record, minutes=minutes, progress=progress)

        def change(m: AvatarManifest) -> AvatarManifest:
            m = replace(m.with_parts(renderer="parts/renderer"), renderer_training=report.as_dict())
            return replace(m, renderer="neural") if make_default else m

        self.record = self.library.store.update_manifest(self.name, change)
        return report
