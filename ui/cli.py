"""The ``podium`` command line: parse, call, show progress. No logic of its own."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from podium.common.errors import PodiumError, UserInputError

EXIT_USER = 2
EXIT_INTERNAL = 1



class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, then exit 2 (argparse prints usage too)
        print(f"{self.prog}: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_USER)


def _library(args):
    from podium.library import Library

    return Library(args.home)


def _progress():
    from podium.ui.progress_bar import TerminalProgress

    return _StopAware(TerminalProgress())


def cmd_avatar_create(args) -> int:
    bar = _progress()
    avatar = _library(args).create_avatar(
        args.name, footage=args.footage, photo=args.photo, consent=args.consent,
        renderer=args.renderer, train_minutes=args.train_minutes, progress=bar)
    bar.close()
    m = avatar.manifest
    if m.voice_match is not None:
        print(f"voice: {m.speech_defaults.voice} (closest to the presenter's "
              f"{m.voice_match['presenter_f0_hz']:.0f} Hz pitch; change it with "
              f"`podium avatar set {avatar.name} --voice ...`)")
    if m.renderer_training is not None:
        print(f"trained the neural renderer of '{avatar.name}' ({m.renderer_training['steps']} steps)")
    print(f"created avatar '{avatar.name}' ({m.kind}, {m.frame_size[0]}x{m.frame_size[1]}, "
          f"{m.bank_size} mouth shapes) in {avatar.path}")
    return 0


def cmd_avatar_train(args) -> int:
    avatar = _library(args).avatar(args.name)
    bar = _progress()
    report = avatar.train(args.minutes, progress=bar)
    bar.close()
    # `avatar train` alone does not switch the avatar's renderer: the warp renderer is as good
    # on the reconstruction benchmark and renders faster (see README).
    hint = "" if avatar.manifest.renderer == "neural" else "; use it with --renderer neural"
    print(f"trained the neural renderer of '{avatar.name}': {report.summary()}{hint}")
    return 0


def cmd_avatar_list(args) -> int:
    lib = _library(args)
    names = lib.avatar_names()
    if not names:
        print(f"no avatars yet in {lib.store.root}; create one with `podium avatar create`")
        return 0
    for name, record, damage in lib.store.listing():
        if record is None:
            print(f"{name:<24} DAMAGED  {damage}")
            continue
        m = record.manifest
        print(f"{name:<24} {m.kind:<8} {m.frame_size[0]}x{m.frame_size[1]}  consent: {m.consent.name}")
    return 0


def cmd_avatar_show(args) -> int:
    import json

    avatar = _library(args).avatar(args.name)
    print(json.dumps({"path": str(avatar.path), **avatar.manifest.to_dict()}, indent=2,
                     ensure_ascii=False))
    return 0


def cmd_avatar_delete(args) -> int:
    _library(args).delete_avatar(args.name)
    print(f"deleted avatar '{args.name}'")
    return 0


def cmd_voices(args) -> int:
    from podium import speech

    voices = _library(args).voices(language=args.language)
    if not voices:
        raise UserInputError(f"no voice speaks '{args.language}'; run `podium voices` to list them all")
    for v in voices:
        mark = "  (default)" if v.id == speech.DEFAULT_VOICE else ""
        print(f"{v.id:<26} {', '.join(v.languages):<24} {v.name}{mark}")
    return 0


def cmd_lexicon(args) -> int:
    lib = _library(args)
    where = f"avatar '{args.avatar}'" if args.avatar else "your lexicon"
    if args.action == "add":
        stored = lib.add_word(args.word, args.pronunciation, avatar=args.avatar)
        print(f"{where}: {args.word} -> {stored}")
    elif args.action == "remove":
        lib.remove_word(args.word, avatar=args.avatar)
        print(f"{where}: removed {args.word}")
    else:
        entries = lib.lexicon(args.avatar).entries
        if not entries:
            print(f"{where} is empty; add words with `podium lexicon add WORD PRONUNCIATION`")
        for word, pron in sorted(entries.items()):
            print(f"{word:<24} {pron}")
    return 0


def cmd_avatar_set(args) -> int:
    avatar = _library(args).avatar(args.name)
    if not (args.voice or args.rate is not None or args.pitch is not None or args.clear):
        raise UserInputError("give --voice, --rate and/or --pitch to store, or --clear")
    stored = avatar.set_speech_defaults(voice=args.voice, rate_wpm=args.rate, pitch=args.pitch,
                                        clear=args.clear)
    shown = ", ".join(f"{k} {v}" for k, v in stored.to_dict().items()) or "none (en-us at its own rate)"
    print(f"'{args.name}' now speaks with: {shown}")
    return 0


def _render_options(args):
    """RenderOptions from the speech, music, size and layout flags a command has."""
    from podium.limits import parse_size
    from podium.lipsync import RenderOptions
    from podium.lipsync.layout import Layout

    extra = {}
    if args.music:
        extra = {"music": args.music, "music_volume_db": args.music_volume}
    if hasattr(args, "size"):
        extra["size"] = parse_size(args.size)
    if hasattr(args, "layout"):
        extra["layout"] = Layout(aspect=args.layout or "source", background=args.background,
                                 slide=args.slide)
    return RenderOptions(voice=args.voice, rate_wpm=args.rate, pitch=args.pitch, renderer=args.renderer,
                         **extra)


def _report(result) -> None:
    print(f"wrote {result.video} ({result.duration:.1f} s, {result.frames} frames) "
          f"with captions {result.srt.name} and {result.vtt.name}")


def _speech(args):
    """The :class:`podium.Speech` a say or dub command asks for."""
    from podium.speech_input import Speech

    if args.audio:
        if args.text or args.script:
            raise UserInputError("give either --audio (a recording) or --text/--script, not both")
        return Speech.from_recording(args.audio, transcript=args.transcript, language=args.language)
    if args.transcript or args.language:
        raise UserInputError("--transcript and --language go with --audio (for text, --voice "
                             "sets the language)")
    if args.script:
        return Speech.from_script_file(args.script)
    if args.text:
        return Speech.from_script(args.text)
    raise UserInputError("give the speech: --text TEXT, --script FILE, --audio VOICE.wav (or --scenes for say)")


def cmd_say(args) -> int:
    avatar = _library(args).avatar(args.avatar)
    options = _render_options(args)
    bar = _progress()
    if args.preview_audio:
        if args.audio or args.scenes:
            raise UserInputError("--preview-audio is for --text or --script: it writes the speech only")
        out = avatar.preview_audio(_speech(args), Path(args.out).with_suffix(".wav"), options,
                                   progress=bar)
        bar.close()
        print(f"wrote {out} (speech only, no video)")
        return 0
    if args.scenes:
        if args.text or args.script or args.audio:
            raise UserInputError("--scenes carries the scripts; leave out --text, --script and --audio")
        result = avatar.render_scenes(args.scenes, args.out, options, progress=bar)
    else:
        result = avatar.render(_speech(args), args.out, options, progress=bar)
    bar.close()
    _report(result)
    return 0


def cmd_dub(args) -> int:
    avatar = _library(args).avatar(args.avatar)
    bar = _progress()
    result = avatar.dub(args.video, _speech(args), args.out, _render_options(args), progress=bar)
    bar.close()
    _report(result)
    return 0


def cmd_batch(args) -> int:
    from podium.speech_input import read_script_file

    lib = _library(args)
    bar = _progress()

    def report(row) -> None:
        bar.close()
        detail = f"{row.file.name} ({row.duration:.1f} s)" if row.file and row.duration else ""
        print(f"row {row.index}: {row.status} {detail}{row.error or ''}".rstrip())

    from podium.lipsync.batch import BatchInterrupted

    try:
        summary = lib.batch(args.avatar, read_script_file(args.script), args.rows, args.out,
                            options=_render_options(args), name_column=args.name_column, progress=bar,
                            on_row=report)
    except BatchInterrupted as stop:  # Ctrl-C or SIGTERM: say what is there
        bar.close()
        done = stop.summary
        there = f" ({done.count('skipped')} were there already)" if done.count("skipped") else ""
        print(f"podium: interrupted; {done.count('rendered')} of {stop.total} videos written{there}, "
              f"summary in {done.summary_csv}", file=sys.stderr)
        return 130
    bar.close()
    print(f"{summary.count('rendered')} rendered, {summary.count('skipped')} already there, "
          f"{summary.count('failed')} failed; summary in {summary.summary_csv}")
    return EXIT_USER if summary.count("failed") else 0


def cmd_ui(args) -> int:
    from importlib.util import find_spec

    if find_spec("gradio") is None:
        raise UserInputError("the web studio needs gradio: pip install 'gradio==6.31.0'")
    from podium.ui.studio.server import launch

    launch(home=args.home, host=args.host, port=args.port, auth=args.auth, auth_file=args.auth_file,
           share=args.share, max_upload=args.max_upload, allowed_hosts=args.allowed_host)
    return 0


def cmd_demo(args) -> int:
    from podium.samples import DEMO_SCRIPT, PORTRAIT
    from podium.speech_input import Speech

    lib = _library(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not lib.exists("demo"):
        print(f"creating the demo avatar from {PORTRAIT.name}...")
        bar = _progress()
        lib.create_avatar("demo", photo=PORTRAIT, consent="Eileen Collins (NASA public-domain portrait)",
                          progress=bar)
        bar.close()
    bar = _progress()
    result = lib.avatar("demo").render(Speech.from_script_file(DEMO_SCRIPT), out, progress=bar)
    bar.close()
    print(f"wrote {result.video} ({result.duration:.1f} s) with captions {result.srt.name}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    home = argparse.ArgumentParser(add_help=False)
    home.add_argument("--home", default=argparse.SUPPRESS,
                      help="avatar library folder (default: $PODIUM_HOME or ~/.local/share/podium)")
    p = _Parser(prog="podium", description="Talking-presenter videos from a clip or a photo.",
                parents=[home])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    avatar = sub.add_parser("avatar", help="create, list, show and delete avatars", parents=[home])
    asub = avatar.add_subparsers(dest="action", required=True, parser_class=_Parser)
    create = asub.add_parser("create", help="make an avatar from footage or a photo", parents=[home])
    create.add_argument("name")
    src = create.add_mutually_exclusive_group(required=True)
    src.add_argument("--footage", metavar="VIDEO", help="3 s - 10 min of the presenter talking")
    src.add_argument("--photo", metavar="IMAGE", help="one front-facing portrait")
    create.add_argument("--consent", metavar="FULL_NAME",
                        help="name of the person shown, who agreed to become an avatar (required)")
    create.add_argument("--renderer", choices=("warp", "neural"), default="warp",
                        help="warp: ready at once (default); neural: also train the per-avatar model "
                             "and render with it")
    create.add_argument("--train-minutes", type=float, metavar="MIN",
                        help="with --renderer neural: training time budget (default: the model's, 9 min)")
    create.set_defaults(func=cmd_avatar_create)
    train = asub.add_parser("train", help="train (or continue training) an avatar's neural renderer",
                            parents=[home])
    train.add_argument("name")
    train.add_argument("--minutes", type=float, help="training time budget (default: the model's)")
    train.set_defaults(func=cmd_avatar_train)
    asub.add_parser("list", help="list avatars", parents=[home]).set_defaults(func=cmd_avatar_list)
    show = asub.add_parser("show", help="print an avatar's manifest", parents=[home])
    show.add_argument("name")
    show.set_defaults(func=cmd_avatar_show)
    setp = asub.add_parser("set", help="store the voice and rate every video of this avatar uses",
                           parents=[home])
    setp.add_argument("name")
    setp.add_argument("--voice", help="voice id (see `podium voices`)")
    setp.add_argument("--rate", type=int, metavar="WPM", help="speaking rate in words per minute")
    setp.add_argument("--pitch", type=float, metavar="X", help="pitch relative to the voice's, 0.25-2 "
                      "(espeak-ng voices)")
    setp.add_argument("--clear", action="store_true", help="forget the stored voice, rate and pitch")
    setp.set_defaults(func=cmd_avatar_set)
    delete = asub.add_parser("delete", help="delete an avatar", parents=[home])
    delete.add_argument("name")
    delete.set_defaults(func=cmd_avatar_delete)

    lex = sub.add_parser("lexicon", help="how words are pronounced (IPA or a respelling)", parents=[home])
    lsub = lex.add_subparsers(dest="action", required=True, parser_class=_Parser)
    for action, helptext in (("add", "add or change a word"), ("remove", "forget a word"),
                             ("list", "show the words")):
        lp = lsub.add_parser(action, help=helptext, parents=[home])
        if action != "list":
            lp.add_argument("word")
        if action == "add":
            lp.add_argument("pronunciation", help="IPA like ŋwiən, or a respelling like 'new win'")
        lp.add_argument("--avatar", help="only for this avatar's videos (default: all of yours)")
        lp.set_defaults(func=cmd_lexicon)

    voices = sub.add_parser("voices", help="list the voices", parents=[home])
    voices.add_argument("--language", help="only voices for this language code, e.g. en or de")
    voices.set_defaults(func=cmd_voices)

    def music_args(p):
        p.add_argument("--music", metavar="FILE", help="background music, ducked under the speech")
        p.add_argument("--music-volume", type=float, default=-20.0, metavar="DB",
                       help="music level relative to the speech, -60..0 dB (default -20)")

    def layout_args(p):
        p.add_argument("--layout", choices=("source", "16:9", "9:16", "1:1"),
                       help="output shape (default: the avatar's own frame)")
        p.add_argument("--background", metavar="COLOUR|IMAGE",
                       help="cut the presenter out onto a colour (#1f4e79, white...) or an image")
        p.add_argument("--slide", metavar="IMAGE", help="show this slide with the presenter in a corner")

    def speech_args(p):
        p.add_argument("--avatar", required=True)
        text = p.add_mutually_exclusive_group()
        text.add_argument("--text", help="the script as text")
        text.add_argument("--script", metavar="FILE", help="a UTF-8 script file")
        p.add_argument("--audio", metavar="VOICE.wav", help="a recorded voice instead of a script")
        p.add_argument("--transcript", help="what the recording says (better lip sync, English)")
        p.add_argument("--language", metavar="CODE",
                       help="language of the recording, e.g. en, de, ja: 'en' times English lips by "
                            "recognising the words (better than the language-neutral default)")
        p.add_argument("--voice", help="voice id (see `podium voices`); default: the avatar's, else kokoro:jm_kumo")
        p.add_argument("--rate", type=int, metavar="WPM", help="speaking rate in words per minute")
        p.add_argument("--pitch", type=float, metavar="X", help="pitch relative to the voice's, 0.25-2 "
                       "(espeak-ng voices)")
        p.add_argument("--renderer", choices=("auto", "warp", "neural"), default="auto",
                       help="mouth renderer (default: the avatar's own)")
        music_args(p)
        p.add_argument("--out", required=True, metavar="FILE.mp4")

    say = sub.add_parser("say", help="render a script or a recording with an avatar", parents=[home])
    speech_args(say)
    say.add_argument("--size", metavar="WxH", help="output size, e.g. 1280x720 (default: the avatar's)")
    say.add_argument("--preview-audio", action="store_true",
                     help="write only the speech (FILE.wav next to --out) to check pronunciation")
    say.add_argument("--scenes", metavar="SCENES.yaml",
                     help="several slides with a script each, rendered into one video")
    layout_args(say)
    say.set_defaults(func=cmd_say)

    dub = sub.add_parser("dub", help="re-sync the lips of an existing video to new speech",
                         parents=[home])
    speech_args(dub)
    dub.add_argument("--video", required=True, help="a video of the avatar's presenter")
    dub.set_defaults(func=cmd_dub)

    batch = sub.add_parser("batch", help="one video per CSV row, {{variables}} filled from its columns",
                           parents=[home])
    batch.add_argument("--avatar", required=True)
    batch.add_argument("--script", required=True, metavar="TEMPLATE",
                       help="a UTF-8 script file with {{variables}} named like the CSV columns")
    batch.add_argument("--rows", required=True, metavar="PEOPLE.csv", help="one row per video, with a header")
    batch.add_argument("--out", required=True, metavar="DIR", help="folder for the videos and summary.csv")
    batch.add_argument("--name-column", help="column that names each file (default: 'file' if present, "
                       "else the row number)")
    batch.add_argument("--voice", help="voice id (see `podium voices`); default: the avatar's, else kokoro:jm_kumo")
    batch.add_argument("--rate", type=int, metavar="WPM", help="speaking rate in words per minute")
    batch.add_argument("--pitch", type=float, metavar="X", help="pitch relative to the voice's (espeak-ng voices)")
    batch.add_argument("--size", metavar="WxH", help="output size, e.g. 1280x720 (default: the avatar's)")
    batch.add_argument("--renderer", choices=("auto", "warp", "neural"), default="auto",
                       help="mouth renderer (default: the avatar's own)")
    music_args(batch)
    layout_args(batch)
    batch.set_defaults(func=cmd_batch)

    demo = sub.add_parser("demo", help="build the demo avatar and render the sample script",
                          parents=[home])
    demo.add_argument("--out", default="out/demo.mp4", metavar="FILE.mp4")
    demo.set_defaults(func=cmd_demo)

    studio = sub.add_parser("ui", help="open the web studio (Gradio) in your browser", parents=[home])
    studio.add_argument("--host", default="127.0.0.1",
                        help="address to serve on (default 127.0.0.1: this machine only; "
                             "any other needs a login)")
    studio.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    studio.add_argument("--auth", metavar="USER:PASSWORD",
                        help="require this login (default: $PODIUM_AUTH; none when unset; "
                             "other users of this machine can see command lines: prefer --auth-file)")
    studio.add_argument("--auth-file", metavar="FILE",
                        help="require the login on the first line of FILE (user:password; "
                             "the file must be readable by you only: chmod 600)")
    studio.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="also answer to this host name (repeatable; also $PODIUM_ALLOWED_HOSTS); "
                             "127.0.0.1, localhost, [::1] and --host always work, other names get 400")
    studio.add_argument("--share", action="store_true",
                        help="also make a public gradio.live link (off by default)")
    studio.add_argument("--max-upload", default="500mb", metavar="SIZE",
                        help="largest accepted upload, e.g. 200mb or 2gb (default 500mb)")
    studio.set_defaults(func=cmd_ui)
    return p


def _hide_native_logs() -> None:
    """Send what native libraries write to fd 2 (MediaPipe/TFLite start-up notes) to
    /dev/null, while Python's ``sys.stderr`` keeps writing to the real terminal."""
    if os.environ.get("PODIUM_DEBUG"):
        return
    try:
        real = os.dup(2)
        sys.stderr.flush()
        sys.stderr = os.fdopen(real, "w", buffering=1, encoding="utf-8", errors="replace")
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
    except OSError:
        pass


_stop_requested = False  # set by _interrupt: Ctrl-C or SIGTERM came


def _interrupt(signum, frame):
    global _stop_requested
    _stop_requested = True
    raise KeyboardInterrupt


class _StopAware:
    """A progress bar that raises the interrupt again at the next step: Python drops an
    exception raised in a C library's callback (espeak-ng's), so a signal that lands there
    would otherwise be lost."""

    def __init__(self, bar):
        self._bar = bar

    def __call__(self, stage: str, done: int, total: int) -> None:
        if _stop_requested:
            raise KeyboardInterrupt
        self._bar(stage, done, total)

    def close(self) -> None:
        self._bar.close()


def _stop_on_signals() -> dict:
    """SIGTERM (``kill``, a service manager, a container stop) stops podium like Ctrl-C: a
    KeyboardInterrupt in the main thread, so temporaries are removed and a batch writes its
    summary. A signal ignored from the start (``nohup``) stays ignored. Returns the handlers
    it replaced (none outside the main thread)."""
    import signal

    global _stop_requested
    _stop_requested = False
    replaced = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            if signal.getsignal(sig) is not signal.SIG_IGN:
                replaced[sig] = signal.signal(sig, _interrupt)
        except ValueError:  # not the main thread (main() called by a worker): leave it be
            break
    return replaced


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    _hide_native_logs()
    if not hasattr(args, "home"):
        args.home = None
    previous_handlers = _stop_on_signals()
    try:
        return args.func(args)
    except UserInputError as exc:
        print(f"podium: error: {exc}", file=sys.stderr)
        return EXIT_USER
    except PodiumError as exc:
        print(f"podium: failed: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:  # a batch says itself what it wrote (cmd_batch)
        print("podium: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no tracebacks for users
        if os.environ.get("PODIUM_DEBUG"):
            raise
        print(f"podium: internal error: {type(exc).__name__}: {exc} "
              "(set PODIUM_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        import signal

        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def entry() -> None:
    raise SystemExit(main())


if __name__ == "__main__":
    entry()
