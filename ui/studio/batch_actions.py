"""The Batch tab: a CSV and a ``{{variables}}`` script, the preview of every row's filled
script, the ticked rows rendered with :meth:`podium.Library.batch`, and a zip of the videos."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from podium.common.errors import PodiumError, UserInputError
from podium.library import Library
from podium.lipsync.batch import read_rows
from podium.speech.variables import fill_variables, find_placeholders
from podium.ui.studio import uploads
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
from podium.ui.studio.runner import JobRunner


@dataclass(frozen=True)
class BatchPreview:
    """The rows of a batch CSV with their filled scripts.

    ``rows`` are :class:`lipsync.batch.BatchRow`; ``scripts`` holds the filled script
    of each row, or None where filling failed (``errors`` says why).
    """

    rows: tuple
    scripts: tuple
    errors: tuple
    columns: tuple

    def table(self) -> list[list]:
        return [[r.index, r.name, s if s is not None else f"⚠ {e}"]
                for r, s, e in zip(self.rows, self.scripts, self.errors)]

    def choices(self) -> list[tuple[str, int]]:
        return [(f"{r.index} · {r.name}", r.index) for r in self.rows]

    def ready(self) -> list[int]:
        """Row indices whose script could be filled (ticked by default)."""
        return [r.index for r, s in zip(self.rows, self.scripts) if s is not None]


@dataclass(frozen=True)
class BatchOutcome:
    job: Job
    results: tuple  # of lipsync.batch.RowResult
    zip: Path
    summary_csv: Path
    message: str


def status_table(preview_rows, selected: set[int], results: dict[int, object],
                 running: int | None = None) -> list[list]:
    """Per-row status of a batch: queued, rendering, rendered, failed or not selected."""
    out = []
    for r in preview_rows:
        res = results.get(r.index)
        if res is not None:
            state = res.status + (f": {res.error}" if res.error else "")
            dur = f"{res.duration:.1f} s" if res.duration else ""
            out.append([r.index, r.name, state, dur])
        elif r.index not in selected:
            out.append([r.index, r.name, "not selected", ""])
        elif r.index == running:
            out.append([r.index, r.name, "rendering…", ""])
        else:
            out.append([r.index, r.name, "queued", ""])
    return out


def zip_videos(summary, zip_path: Path) -> Path:
    """The videos and captions of a batch and its summary CSV in one zip, written atomically."""
    tmp = zip_path.with_name(f".{zip_path.name}.tmp")  # hidden: a restart removes it
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:  # MP4s do not compress
        for r in summary.results:
            if r.file is not None and Path(r.file).is_file():
                for f in (Path(r.file), Path(r.file).with_suffix(".srt"), Path(r.file).with_suffix(".vtt")):
                    if f.is_file():
                        zf.write(f, f.name)
        zf.write(summary.summary_csv, summary.summary_csv.name)
    os.replace(tmp, zip_path)
    return zip_path


def batch_outcome(job: Job, summary, zip_path: Path) -> BatchOutcome:
    done = sum(r.status in ("rendered", "skipped") for r in summary.results)
    failed = sum(r.status == "failed" for r in summary.results)
    msg = f"Batch finished: {done} video(s) ready" + (f", {failed} failed" if failed else "") + "."
    return BatchOutcome(job, tuple(summary.results), zip_path, summary.summary_csv, msg)


class BatchActions:
    def __init__(self, library: Library, runner: JobRunner):
        self.library = library
        self.runner = runner
        runner.register("batch", self._work, lambda job, done: batch_outcome(job, *done))

    def preview(self, csv_upload, template: str) -> BatchPreview:
        """Read the CSV and fill the template for every row (nothing is rendered)."""
        path, _ = uploads.check_csv(csv_upload)
        template = template or ""
        if not template.strip():
            raise UserInputError("the script template is empty; write the script with {{variables}}")
        find_placeholders(template)
        rows = read_rows(path)
        scripts, errors = [], []
        for row in rows:
            try:
                scripts.append(fill_variables(template, row.values))
                errors.append(None)
            except PodiumError as exc:
                scripts.append(None)
                errors.append(str(exc))
        columns = tuple(rows[0].values) if rows else ()
        return BatchPreview(tuple(rows), tuple(scripts), tuple(errors), columns)

    def render(self, avatar: str, template: str, csv_upload, selected, voice: str | None = None,
               rate=None, size: str | None = None, renderer: str = "auto", *,
               look: dict | None = None, sink: Sink | None = None, on_row: Callable | None = None,
               session: str = "local") -> BatchOutcome:
        who = pick_avatar(self.library, avatar)
        preview = self.preview(csv_upload, template)
        chosen = sorted({int(i) for i in (selected or [])})
        known = {r.index for r in preview.rows}
        if not chosen:
            raise UserInputError("no rows are selected; tick the rows to render")
        if set(chosen) - known:
            raise UserInputError(f"rows {sorted(set(chosen) - known)} are not in the CSV; load it again")
        path, _ = uploads.check_csv(csv_upload)
        look_params, inputs = parse_look(look)
        params = {"avatar": who.name, "template": template, "selected": chosen,
                  "voice": parse_voice(self.library, voice), "rate": parse_rate(rate), "size": parse_size(size),
                  "renderer": parse_renderer(renderer), "look": look_params}
        who.check_options(render_options(params, inputs))
        job = self.runner.new_job("batch", f"batch '{who.name}': {len(chosen)} of {len(known)} rows "
                                           f"from {path.name}", params, {"rows": path, **inputs})
        return self.runner.run(job, sink=sink, session=session, on_row=on_row)

    def _work(self, job: Job, relay: ProgressRelay, on_row: Callable | None = None):
        p = job.params
        rows = [r for r in read_rows(self.runner.input(job, "rows")) if r.index in set(p["selected"])]
        folder = self.runner.folder_of(job)
        summary = self.library.batch(p["avatar"], p["template"], rows, folder / "videos",
                                     options=job_options(self.runner, job), progress=relay, on_row=on_row)
        zip_path = zip_videos(summary, folder / f"batch-{job.id}.zip")
        return {"zip": zip_path, "summary": summary.summary_csv}, (summary, zip_path)
