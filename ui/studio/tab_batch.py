"""Batch tab: a CSV of recipients + a script with ``{{variables}}`` -> one video per ticked row."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import gradio as gr

from podium.ui.studio import uploads
from podium.ui.studio.handlers import Studio, status_table
from podium.ui.studio.tab_create import look, render_options
from podium.ui.studio.wiring import listen, session_of

EXAMPLE_TEMPLATE = "Hi {{first_name}}! Welcome to {{company}}. We are glad to have you."
CSV_HELP = """\
The first line of the CSV names the columns; every other line is one video.
Each `{{column}}` in the script is replaced by that row's value. A column named
`file` names each video (else `row-001`, `row-002`, …).

```
file,first_name,company
anna,Anna,Acme
ben,Ben,Globex
```
"""
STATUS_HEADERS = ["row", "file", "status", "duration"]


def build(studio: Studio, voices) -> SimpleNamespace:
    c = SimpleNamespace()
    with gr.Tab("Batch", id="batch", elem_id="tab-batch"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                c.avatar = gr.Dropdown(label="Avatar", choices=[], elem_id="batch-avatar")
                c.opts = render_options("batch", voices)
                c.template = gr.Textbox(label="Script with {{variables}}", lines=5, value=EXAMPLE_TEMPLATE,
                                        elem_id="batch-template")
            with gr.Column(scale=2, min_width=300):
                c.csv = gr.File(label="Rows (CSV, UTF-8)", file_types=[".csv", ".tsv", ".txt"],
                                type="filepath", elem_id="batch-csv")
                c.load = gr.Button("Preview rows", elem_id="batch-preview")
                gr.Markdown(CSV_HELP)
        c.table = gr.Dataframe(headers=["row", "file", "script (filled in)"], datatype=["number", "str", "str"],
                               interactive=False, wrap=True, label="Preview", elem_id="batch-table",
                               column_widths=["8%", "17%", "75%"])
        c.rows = gr.CheckboxGroup(label="Rows to render (untick to skip)", choices=[],
                                  elem_id="batch-rows")
        with gr.Row():
            c.run = gr.Button("Render ticked rows", variant="primary", elem_id="batch-run")
            c.cancel = gr.Button("Cancel", variant="stop", scale=0, min_width=110)
        c.message = gr.Markdown(elem_id="batch-message")
        c.status = gr.Dataframe(headers=STATUS_HEADERS, interactive=False, label="Queue",
                                elem_id="batch-status", wrap=True)
        with gr.Row():
            c.zip = gr.File(label="All videos (zip)", interactive=False, elem_id="batch-zip")
            c.summary = gr.File(label="Summary CSV", interactive=False, elem_id="batch-summary")
    return c


def wire(studio: Studio, c: SimpleNamespace) -> None:
    o = c.opts

    def preview(path, template):
        if not path:
            return gr.update(value=[]), gr.update(choices=[], value=[]), ""
        p = studio.batch_preview(path, template)
        bad = len(p.rows) - len(p.ready())
        msg = f"{len(p.rows)} rows in `{uploads.check_csv(path)[0].name}`" + (
            f"; {bad} cannot be filled (⚠ in the table) and are unticked" if bad else "")
        return p.table(), gr.update(choices=p.choices(), value=p.ready()), msg

    for event in (c.csv.upload, c.load.click):
        listen(event, preview, [c.csv, c.template], [c.table, c.rows, c.message])

    def run(avatar, template, path, selected, voice, rate, size, renderer, layout, background,
            background_image, slide, music, music_volume, _slides, request: gr.Request,
            progress=gr.Progress()):
        preview_rows = studio.batch_preview(path, template).rows
        chosen = {int(i) for i in selected or []}
        session = session_of(request)
        results: dict = {}
        live = {"frac": None, "text": ""}
        box: dict = {}

        def work():
            try:
                box["outcome"] = studio.render_batch(
                    avatar, template, path, selected, voice, rate, size, renderer,
                    look=look(layout, background, background_image, slide, music, music_volume),
                    sink=lambda f, t: live.update(frac=f, text=t),
                    on_row=lambda r: results.__setitem__(r.index, r), session=session)
            except BaseException as exc:  # noqa: BLE001 - handed to the page below
                box["error"] = exc

        def table():
            running = next((i for i in sorted(chosen) if i not in results), None)
            return status_table(preview_rows, chosen, dict(results), running)

        worker = threading.Thread(target=work, name="podium-batch", daemon=True)
        worker.start()
        last = None
        try:
            while worker.is_alive():
                worker.join(0.3)
                if live["text"]:
                    progress(live["frac"], desc=live["text"])
                now = table()
                if now != last:
                    last = now
                    yield now, gr.update(), gr.update(), gr.update()
        finally:
            if worker.is_alive():  # the page went away: stop the batch at its next step
                studio.cancel(session)
        if "error" in box:
            raise box["error"]
        out = box["outcome"]
        yield table(), out.message, str(out.zip), str(out.summary_csv)

    listen(c.run.click, run, [c.avatar, c.template, c.csv, c.rows, o.voice, o.rate, o.size, o.renderer,
                              *o.look_inputs],
           [c.status, c.message, c.zip, c.summary], heavy=True, show_progress_on=[c.message])

    def cancel(request: gr.Request):
        return studio.cancel(session_of(request))

    listen(c.cancel.click, cancel, None, [c.message], light=True)
