"""Avatars tab: upload, quality report, consent, creation with progress, gallery, train, delete."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from podium.ui.studio.handlers import Studio
from podium.ui.studio.wiring import listen, session_of, sink_of

CONSENT_LABEL = ("The person named above agreed to be turned into an avatar and to have videos "
                 "of them made with it")


def build(studio: Studio) -> SimpleNamespace:
    c = SimpleNamespace()
    with gr.Tab("Avatars", id="avatars", elem_id="tab-avatars"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=360):
                gr.Markdown("### New avatar")
                c.source = gr.File(label="Footage (3 s – 10 min of the presenter talking) or a portrait photo",
                                   file_types=["video", "image"], type="filepath",
                                   elem_id="avatar-source")
                c.report = gr.Markdown(elem_id="quality-report")
                c.name = gr.Textbox(label="Avatar name", placeholder="anna  (letters, digits, - and _)",
                                    elem_id="avatar-name", max_lines=1)
                c.consent_name = gr.Textbox(label="Full name of the person shown", max_lines=1,
                                            placeholder="Anna Example", elem_id="consent-name")
                c.consent = gr.Checkbox(label=CONSENT_LABEL, elem_id="consent-box")
                with gr.Accordion("Neural renderer (experimental, slow on a CPU)", open=False):
                    c.train_after = gr.Checkbox(label="Train the neural renderer after creating")
                    c.train_after_minutes = gr.Slider(1, 60, value=3, step=1, label="Training time (minutes)")
                with gr.Row():
                    c.create = gr.Button("Create avatar", variant="primary", elem_id="create-avatar")
                    c.cancel = gr.Button("Cancel", variant="stop", elem_id="cancel-avatar", scale=0,
                                         min_width=110)
                c.status = gr.Markdown(elem_id="avatar-status")
            with gr.Column(scale=7, min_width=420):
                gr.Markdown("### Your avatars")
                c.gallery = gr.Gallery(label="Previews", show_label=False, columns=3, height=280,
                                       object_fit="contain", allow_preview=True, fit_columns=False,
                                       elem_id="avatar-gallery")
                with gr.Row(equal_height=True):
                    c.pick = gr.Dropdown(label="Avatar", choices=[], elem_id="manage-avatar", scale=2)
                    c.refresh = gr.Button("↻ Refresh", scale=0, min_width=110)
                c.details = gr.Markdown(elem_id="avatar-details")
                with gr.Row(equal_height=True):
                    c.train_minutes = gr.Slider(1, 60, value=3, step=1, label="Train for (minutes)", scale=2)
                    c.train = gr.Button("Train neural renderer", scale=1, elem_id="train-avatar")
                    c.delete = gr.Button("Delete…", variant="stop", scale=0, min_width=110,
                                         elem_id="delete-avatar")
                with gr.Group(visible=False, elem_id="confirm-delete") as c.confirm_box:
                    c.confirm_text = gr.Markdown()
                    with gr.Row():
                        c.confirm_yes = gr.Button("Yes, delete it", variant="stop", elem_id="confirm-delete-yes")
                        c.confirm_no = gr.Button("Keep it", elem_id="confirm-delete-no")
                c.manage_status = gr.Markdown(elem_id="manage-status")
    return c


def wire(studio: Studio, c: SimpleNamespace, avatar_dropdowns: list, refresh_avatars) -> None:
    """``refresh_avatars(prefer, *current_values)`` -> updates for ``avatar_dropdowns``."""

    def quality(path, progress=gr.Progress()):
        if not path:
            return ""
        return studio.quality(path, progress=lambda s, d, t: progress((d, t), desc=s)).markdown()

    listen(c.source.upload, quality, [c.source], [c.report], show_progress_on=[c.report])
    c.source.clear(lambda: "", None, [c.report], show_progress="hidden")

    def create(path, name, consent_name, consent, train_after, minutes,
               request: gr.Request, progress=gr.Progress()):
        outcome = studio.create_avatar(path, name, consent_name, consent,
                                       train_minutes=minutes if train_after else None,
                                       sink=sink_of(progress), session=session_of(request))
        return outcome.message, studio.gallery()

    created = listen(c.create.click, create,
                     [c.source, c.name, c.consent_name, c.consent, c.train_after, c.train_after_minutes],
                     [c.status, c.gallery], heavy=True, show_progress_on=[c.status])
    created.success(refresh_avatars, [c.name, *avatar_dropdowns], avatar_dropdowns, show_progress="hidden")

    def cancel(request: gr.Request):
        return studio.cancel(session_of(request))

    listen(c.cancel.click, cancel, None, [c.status], light=True)

    listen(c.refresh.click, studio.gallery, None, [c.gallery]).then(
        refresh_avatars, [c.pick, *avatar_dropdowns], avatar_dropdowns, show_progress="hidden")
    listen(c.pick.change, studio.avatar_details, [c.pick], [c.details], light=True)

    def train(name, minutes, request: gr.Request, progress=gr.Progress()):
        msg = studio.train_avatar(name, minutes, sink=sink_of(progress), session=session_of(request))
        return msg, studio.avatar_details(name)

    listen(c.train.click, train, [c.pick, c.train_minutes], [c.manage_status, c.details], heavy=True,
           show_progress_on=[c.manage_status])

    def ask_delete(name):
        if not name:
            raise gr.Error("pick the avatar to delete first", title="Please check")
        return (gr.update(visible=True),
                f"Really delete avatar **{name}**? Its files are removed; videos already made stay.")

    listen(c.delete.click, ask_delete, [c.pick], [c.confirm_box, c.confirm_text], light=True)
    c.confirm_no.click(lambda: gr.update(visible=False), None, [c.confirm_box], show_progress="hidden")

    def delete(name):
        msg = studio.delete_avatar(name)
        return gr.update(visible=False), msg, studio.gallery()

    deleted = listen(c.confirm_yes.click, delete, [c.pick], [c.confirm_box, c.manage_status, c.gallery])
    deleted.success(refresh_avatars, [c.pick, *avatar_dropdowns], avatar_dropdowns, show_progress="hidden")
