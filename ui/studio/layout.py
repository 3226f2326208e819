"""The studio's page: five tabs built from their modules and wired to one :class:`Studio`."""

from __future__ import annotations

import gradio as gr

from podium.ui.studio import tab_avatars, tab_batch, tab_create, tab_dub, tab_jobs
from podium.ui.studio.handlers import Studio
from podium.ui.studio.wiring import dropdown_update

TITLE = "Podium studio"
CSS = """
.gradio-container {max-width: 1280px !important; margin: auto;}
#quality-report table {font-size: 0.92em;}
#podium-header h1 {margin-bottom: 0;}
footer {display: none !important;}
/* Status lines double as the progress bar's place: give them room to show it. */
#avatar-status, #manage-status, #render-status, #dub-status, #batch-message, #jobs-status {min-height: 3.2em;}
#confirm-delete .prose {padding: 8px 12px;}
"""


def theme() -> gr.themes.Base:
    """Gradio's default look with the system's own fonts: no font is fetched from the web."""
    return gr.themes.Default(
        primary_hue="indigo", secondary_hue="slate",
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"])


def build_app(studio: Studio) -> gr.Blocks:
    """All tabs, their events, and a page-load refresh of the avatar and job lists."""
    voices = studio.voice_choices()
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}\nTalking-presenter videos from a clip or a photo, made on this "
                    f"machine. Library: `{studio.home}`", elem_id="podium-header")
        with gr.Tabs(elem_id="podium-tabs"):
            av = tab_avatars.build(studio)
            cr = tab_create.build(studio, voices)
            ba = tab_batch.build(studio, voices)
            du = tab_dub.build(studio, voices)
            jo = tab_jobs.build(studio)
        dropdowns = [av.pick, cr.avatar, ba.avatar, du.avatar]

        def refresh_avatars(prefer, *current):
            names = studio.avatar_names()
            return [dropdown_update(names, cur, prefer=prefer) for cur in current]

        tab_avatars.wire(studio, av, dropdowns, refresh_avatars)
        tab_create.wire(studio, cr)
        tab_batch.wire(studio, ba)
        tab_dub.wire(studio, du)
        tab_jobs.wire(studio, jo)

        demo.load(lambda *cur: refresh_avatars(None, *cur), dropdowns, dropdowns, show_progress="hidden")
        demo.load(studio.gallery, None, [av.gallery], show_progress="hidden")
        demo.load(*jo.refresh_event, show_progress="hidden")
    return demo
