"""Jobs tab: every job of this home, kept across restarts; open finished videos, retry failures."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from podium.ui.studio.handlers import AvatarOutcome, BatchOutcome, Studio, VideoOutcome
from podium.ui.studio.tab_create import show_video
from podium.ui.studio.wiring import dropdown_update, listen, session_of, sink_of

HEADERS = ["job", "started", "kind", "what", "status", "result / error"]


def build(studio: Studio) -> SimpleNamespace:
    c = SimpleNamespace()
    with gr.Tab("Jobs", id="jobs", elem_id="tab-jobs") as c.tab:
        gr.Markdown("Everything the studio made or tried, newest first. Finished videos stay here after "
                    "a restart; a job cut off by a restart shows as failed and can be retried.")
        c.table = gr.Dataframe(headers=HEADERS, interactive=False, wrap=True, elem_id="jobs-table",
                               column_widths=["15%", "11%", "7%", "37%", "8%", "22%"], max_height=320)
        with gr.Row(equal_height=True):
            c.pick = gr.Dropdown(label="Job", choices=[], scale=3, elem_id="jobs-pick")
            c.open = gr.Button("Open", scale=0, min_width=100, elem_id="jobs-open")
            c.retry = gr.Button("Retry", variant="primary", scale=0, min_width=100, elem_id="jobs-retry")
            c.refresh = gr.Button("↻ Refresh", scale=0, min_width=110, elem_id="jobs-refresh")
        c.status = gr.Markdown(elem_id="jobs-status")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                c.video = gr.Video(label="Video", interactive=False, height=360, elem_id="jobs-player")
            with gr.Column(scale=2):
                c.files = gr.File(label="Files", file_count="multiple", interactive=False)
        c.timeline = gr.Plot(label="Timeline", visible=True)
    return c


def wire(studio: Studio, c: SimpleNamespace) -> None:
    def refresh(current):
        return studio.jobs_table(), dropdown_update(studio.job_choices(), current)

    c.refresh_event = (refresh, [c.pick], [c.table, c.pick])
    listen(c.refresh.click, refresh, [c.pick], [c.table, c.pick], light=True)
    # The list is read again whenever the tab is opened, so jobs started elsewhere show up.
    listen(c.tab.select, refresh, [c.pick], [c.table, c.pick], light=True)

    def job_files(job):
        return [p for p in job.outputs.values() if p.endswith((".zip", ".csv", ".mp4", ".srt", ".vtt"))]

    def open_job(job_id):
        job = studio.jobs.get(job_id or "")
        if job is None:
            raise gr.Error("pick a job first", title="Please check")
        if job.kind in ("render", "dub") and job.status == "done":
            return show_video(studio.job_video(job_id))
        note = job.error or f"{job.kind} job, {job.status}"
        if job.retryable:
            note += " — press **Retry** to run it again."
        return f"**{job.title}**: {note}", None, job_files(job), None

    def pick_changed(job_id):
        job = studio.jobs.get(job_id or "")
        return gr.update(interactive=job is not None and job.retryable)

    listen(c.pick.change, pick_changed, [c.pick], [c.retry], light=True)
    listen(c.open.click, open_job, [c.pick], [c.status, c.video, c.files, c.timeline])

    def retry(job_id, request: gr.Request, progress=gr.Progress()):
        out = studio.retry(job_id, sink=sink_of(progress), session=session_of(request))
        if isinstance(out, VideoOutcome):
            return show_video(out)
        if isinstance(out, BatchOutcome):
            return out.message, None, [str(out.zip), str(out.summary_csv)], None
        if isinstance(out, AvatarOutcome):
            return out.message, None, [], None
        return str(out), None, [], None

    retried = listen(c.retry.click, retry, [c.pick], [c.status, c.video, c.files, c.timeline], heavy=True,
                     show_progress_on=[c.status])
    retried.then(refresh, [c.pick], [c.table, c.pick], show_progress="hidden")
