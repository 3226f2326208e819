"""Create tab: avatar + voice + script (markup help beside it), audio preview, render,
player with captions, downloads, and the words/phonemes/mouth timeline."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from podium.ui.studio.handlers import LAYOUTS, MARKUP_HELP, RENDERERS, SIZES, Studio, VideoOutcome
from podium.ui.studio.timeline import load_timeline, timeline_figure
from podium.ui.studio.wiring import listen, session_of, sink_of

EXAMPLE_SCRIPT = ("Welcome to the course. In the next few minutes you will learn how it works.\n\n"
                  "[pause 1s] Let's begin.")


def render_options(prefix: str, voices) -> SimpleNamespace:
    """Voice, rate, renderer, and (folded) layout, background and music controls.

    The Create and Batch tabs share them; :func:`look` turns the folded ones into the
    ``look`` dict of :meth:`Studio.render`.
    """
    o = SimpleNamespace()
    with gr.Row():
        o.voice = gr.Dropdown(label="Voice", choices=voices, value=Studio.OWN_VOICE, scale=3,
                              elem_id=f"{prefix}-voice")
        o.rate = gr.Number(label="Rate (words/min, 0: the voice's own)", value=0, minimum=0, precision=0,
                           scale=1, min_width=150)
        o.renderer = gr.Dropdown(list(RENDERERS), value="auto", label="Renderer", scale=1, min_width=120)
    with gr.Accordion("Layout, background and music", open=False):
        with gr.Row():
            o.layout = gr.Dropdown(list(LAYOUTS), value="source", label="Layout",
                                   info="source: the avatar's own frame")
            o.size = gr.Dropdown(label="Output size", choices=list(SIZES), value=next(iter(SIZES)))
            o.background = gr.Textbox(label="Background colour", placeholder="#1f4e79, white… (empty: "
                                      "the footage's own)", max_lines=1)
        with gr.Row():
            o.background_image = gr.File(label="…or a background image", file_types=["image"],
                                         type="filepath")
            o.slide = gr.File(label="Slide (presenter in a corner)", file_types=["image"], type="filepath")
            with gr.Column():
                o.music = gr.File(label="Background music", file_types=["audio"], type="filepath")
                o.music_volume = gr.Slider(-60, 0, value=-20, step=1, label="Music level under the speech (dB)")
        if prefix == "create":
            o.slides = gr.File(label="Scenes: one slide per part of the script (parts separated by a "
                               "line ---), in this order", file_count="multiple", file_types=["image"],
                               type="filepath", elem_id="create-slides")
        else:
            o.slides = gr.State(None)
    o.look_inputs = [o.layout, o.background, o.background_image, o.slide, o.music, o.music_volume, o.slides]
    return o


def look(layout, background, background_image, slide, music, music_volume, slides=None) -> dict:
    """The folded options of :func:`render_options`, as :meth:`Studio.render` takes them."""
    return {"layout": layout, "background": background, "background_image": background_image,
            "slide": slide, "music": music, "music_volume": music_volume,
            "slides": [str(s) for s in slides] if slides else None}


def build(studio: Studio, voices) -> SimpleNamespace:
    c = SimpleNamespace()
    with gr.Tab("Create", id="create", elem_id="tab-create"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=7):
                c.avatar = gr.Dropdown(label="Avatar", choices=[], elem_id="create-avatar-pick")
                c.opts = render_options("create", voices)
                c.script = gr.Textbox(label="Script", lines=8, max_lines=30, value=EXAMPLE_SCRIPT,
                                      elem_id="create-script")
                with gr.Row():
                    c.preview = gr.Button("▶ Preview audio", elem_id="preview-audio")
                    c.render = gr.Button("Render video", variant="primary", elem_id="render-video")
                    c.cancel = gr.Button("Cancel", variant="stop", scale=0, min_width=110,
                                         elem_id="cancel-render")
                c.audio = gr.Audio(label="Audio preview", type="filepath", interactive=False,
                                   elem_id="preview-player")
            with gr.Column(scale=4, min_width=280):
                gr.Markdown(MARKUP_HELP, elem_id="markup-help")
        c.status = gr.Markdown(elem_id="render-status")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                c.video = gr.Video(label="Video", interactive=False, height=420, elem_id="render-player")
            with gr.Column(scale=2):
                c.files = gr.File(label="Download MP4 and captions (SRT, VTT)", file_count="multiple",
                                  interactive=False, elem_id="render-files")
        c.timeline = gr.Plot(label="Timeline: words, phonemes and mouth opening", elem_id="render-timeline")
    return c


def show_video(outcome: VideoOutcome):
    """Player (with the VTT captions), downloads and timeline of a finished video."""
    figure = None
    if outcome.timeline is not None and outcome.timeline.is_file():
        utt, track = load_timeline(outcome.timeline)
        figure = timeline_figure(utt, track)
    player = gr.update(value=str(outcome.video), subtitles=str(outcome.vtt) if outcome.vtt else None)
    return outcome.message, player, [str(p) for p in outcome.files], figure


def wire(studio: Studio, c: SimpleNamespace) -> None:
    o = c.opts

    def preview(script, voice, rate, avatar):
        return str(studio.preview_audio(script, voice, rate, avatar))

    listen(c.preview.click, preview, [c.script, o.voice, o.rate, c.avatar], [c.audio],
           show_progress_on=[c.audio])

    def render(avatar, script, voice, rate, size, renderer, layout, background, background_image, slide,
               music, music_volume, slides, request: gr.Request, progress=gr.Progress()):
        outcome = studio.render(avatar, script, voice, rate, size, renderer,
                                look=look(layout, background, background_image, slide, music, music_volume,
                                          slides),
                                sink=sink_of(progress), session=session_of(request))
        return show_video(outcome)

    listen(c.render.click, render, [c.avatar, c.script, o.voice, o.rate, o.size, o.renderer, *o.look_inputs],
           [c.status, c.video, c.files, c.timeline], heavy=True, show_progress_on=[c.status, c.video])

    def cancel(request: gr.Request):
        return studio.cancel(session_of(request))

    listen(c.cancel.click, cancel, None, [c.status], light=True)
