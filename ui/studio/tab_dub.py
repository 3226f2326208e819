"""Dub tab: a video of an avatar's person + new speech (a recording, or a script and a voice)."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from podium.ui.studio import uploads
from podium.ui.studio.handlers import RENDERERS, Studio
from podium.ui.studio.tab_create import show_video
from podium.ui.studio.wiring import listen, session_of, sink_of

RECORDING, SCRIPT = "A recording", "A script and a voice"


def build(studio: Studio, voices) -> SimpleNamespace:
    c = SimpleNamespace()
    with gr.Tab("Dub", id="dub", elem_id="tab-dub"):
        gr.Markdown("Re-sync the lips of a video you already have of an avatar's presenter: only the "
                    "mouth is redrawn; head motion, blinks and background stay. Speech longer than "
                    "the video continues on the avatar's base loop.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1):
                c.avatar = gr.Dropdown(label="Avatar (the person in the video)", choices=[],
                                       elem_id="dub-avatar")
                c.video_in = gr.File(label="Video to dub", file_types=["video"], type="filepath",
                                     elem_id="dub-video")
                c.source = gr.Radio([RECORDING, SCRIPT], value=RECORDING, label="New speech")
                with gr.Group(visible=True) as c.recording_box:
                    c.audio = gr.File(label="Voice recording (WAV, MP3, M4A, FLAC)",
                                      file_types=["audio", "video"], type="filepath",
                                      elem_id="dub-audio")
                    c.transcript = gr.Textbox(label="Transcript (optional; better timing in English)",
                                              lines=2)
                    c.language = gr.Textbox(label="Language of the recording (optional, e.g. en, de, ja)",
                                            max_lines=1)
                with gr.Group(visible=False) as c.script_box:
                    c.script = gr.Textbox(label="Script", lines=4, elem_id="dub-script")
                    with gr.Row():
                        c.voice = gr.Dropdown(label="Voice", choices=voices, value=Studio.OWN_VOICE, scale=3)
                        c.rate = gr.Number(label="Rate (words/min, 0: the voice's own)", value=0,
                                           minimum=0, precision=0, scale=1, min_width=150)
                c.renderer = gr.Radio(list(RENDERERS), value="auto", label="Mouth renderer")
                with gr.Row():
                    c.run = gr.Button("Dub video", variant="primary", elem_id="dub-run")
                    c.cancel = gr.Button("Cancel", variant="stop", scale=0, min_width=110)
            with gr.Column(scale=1):
                c.status = gr.Markdown(elem_id="dub-status")
                c.video = gr.Video(label="Dubbed video", interactive=False, height=400, elem_id="dub-player")
                c.files = gr.File(label="Download MP4 and captions", file_count="multiple", interactive=False)
        c.timeline = gr.Plot(label="Timeline: words, phonemes and mouth opening")
    return c


def wire(studio: Studio, c: SimpleNamespace) -> None:
    def check_video(path):
        if not path:
            return ""
        p, info = uploads.check_video(path, "the video to dub")
        return f"`{p.name}`: {info.duration:.1f} s, {info.width}×{info.height}, {info.fps:.3g} fps ✓"

    def check_audio(path):
        if not path:
            return ""
        p, info = uploads.check_audio(path)
        return f"`{p.name}`: {info.duration:.1f} s of sound ✓"

    listen(c.video_in.upload, check_video, [c.video_in], [c.status])
    listen(c.audio.upload, check_audio, [c.audio], [c.status])
    c.source.change(lambda s: (gr.update(visible=s == RECORDING), gr.update(visible=s == SCRIPT)),
                    [c.source], [c.recording_box, c.script_box], show_progress="hidden")

    def dub(avatar, video, source, audio, transcript, language, script, voice, rate, renderer,
            request: gr.Request, progress=gr.Progress()):
        if source == RECORDING:
            kwargs = dict(audio=audio, transcript=transcript, language=language)
        else:
            kwargs = dict(script=script, voice=voice, rate=rate)
        outcome = studio.dub(avatar, video, renderer=renderer, sink=sink_of(progress),
                             session=session_of(request), **kwargs)
        return show_video(outcome)

    listen(c.run.click, dub,
           [c.avatar, c.video_in, c.source, c.audio, c.transcript, c.language, c.script, c.voice, c.rate,
            c.renderer],
           [c.status, c.video, c.files, c.timeline], heavy=True, show_progress_on=[c.status, c.video])

    def cancel(request: gr.Request):
        return studio.cancel(session_of(request))

    listen(c.cancel.click, cancel, None, [c.status], light=True)
