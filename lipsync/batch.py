"""Personalized batches: one video per CSV row, with the row's ``{{variables}}`` filled.

Re-running a batch renders only what is missing (outputs are written atomically,
so a file that exists is complete); a row that fails is reported and the batch
goes on. A summary CSV lists every row with its file, duration, status and error.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from podium.avatars.library import AvatarRecord
from podium.common.errors import PodiumError, UserInputError
from podium.common.files import atomic_path
from podium.common.progress import Progress, silent
from podium.lipsync.pipeline import RenderOptions, render_script

#: Columns that name the output file, checked in this order.
NAME_COLUMNS = ("file", "filename", "file_name", "output")
SUMMARY_NAME = "summary.csv"
SUMMARY_COLUMNS = ("row", "file", "duration", "status", "error")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class BatchRow:
    """One recipient.

    Attributes
    ----------
    index : int
        Row number in the CSV, counting data rows from 1.
    name : str
        Output file stem (from a ``file`` column, else ``row-001``...), safe for any file system.
    values : dict of str to str
        The row's cells by column name.
    """

    index: int
    name: str
    values: dict


@dataclass(frozen=True)
class RowResult:
    """What happened to one row. ``duration`` in seconds; ``status`` is
    ``"rendered"``, ``"skipped"`` (already there) or ``"failed"``."""

    index: int
    name: str
    file: Path | None
    duration: float | None
    status: str
    error: str | None = None


@dataclass(frozen=True)
class BatchSummary:
    """All rows' results and the summary CSV written beside the videos."""

    results: tuple
    summary_csv: Path

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    def __repr__(self) -> str:
        return (f"BatchSummary({self.count('rendered')} rendered, {self.count('skipped')} skipped, "
                f"{self.count('failed')} failed; '{self.summary_csv}')")


def _safe_name(raw: str) -> str:
    name = _UNSAFE.sub("_", raw.strip()).strip("._")
    return name[:80]


def read_rows(csv_path: str | Path, *, name_column: str | None = None) -> list[BatchRow]:
    """Read recipients from a CSV file with a header row.

    Parameters
    ----------
    csv_path : str or Path
        UTF-8 (a BOM is fine) CSV; comma, semicolon or tab separated.
    name_column : str, optional
        Column that names each output file; default: the first of
        :data:`NAME_COLUMNS` present, else the row number.

    Raises
    ------
    UserInputError
        Missing or unreadable file, no header, no rows, an unknown ``name_column``.
    """
    path = Path(csv_path)
    if not path.is_file():
        raise UserInputError(f"rows file not found: '{path}'; give a CSV file with a header row")
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise UserInputError(f"'{path.name}' is not UTF-8 text; save the CSV as UTF-8") from None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise UserInputError(f"'{path.name}' is empty; it needs a header row and one row per video")
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(lines, dialect)
    header = [h.strip() for h in next(reader)]
    if not any(header) or len(set(header)) != len(header):
        raise UserInputError(f"'{path.name}' needs a header row of distinct column names, got {header}")
    if name_column is not None and name_column not in header:
        raise UserInputError(f"column {name_column!r} is not in '{path.name}' (columns: {', '.join(header)})")
    column = name_column or next((c for c in NAME_COLUMNS if c in header), None)
    rows = []
    for index, cells in enumerate(reader, start=1):
        values = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}
        name = _safe_name(values.get(column, "")) if column else ""
        rows.append(BatchRow(index, name or f"row-{index:03d}", values))
    if not rows:
        raise UserInputError(f"'{path.name}' has a header but no rows")
    return rows


def _video_duration(path: Path) -> float | None:
    from podium.common.media import probe

    try:
        return round(probe(path).duration, 2)
    except PodiumError:
        return None


def write_summary(results: Sequence[RowResult], path: Path) -> None:
    """Write the summary CSV atomically (columns :data:`SUMMARY_COLUMNS`)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(SUMMARY_COLUMNS)
            for r in results:
                w.writerow([r.index, r.file.name if r.file else "",
                            "" if r.duration is None else f"{r.duration:.2f}", r.status, r.error or ""])


def render_batch(record: AvatarRecord, template: str, rows: Sequence[BatchRow], out_dir: str | Path, *,
                 options: RenderOptions = RenderOptions(), progress: Progress = silent,
                 on_row: Callable[[RowResult], None] | None = None) -> BatchSummary:
    """Render one video per row into ``out_dir``.

    Steps: 1. check the template and the folder; 2. per row: skip it when its
    video exists, else fill the variables and render (a failure is recorded and
    the batch goes on); 3. write ``summary.csv``.

    Parameters
    ----------
    record : AvatarRecord
        The presenter.
    template : str
        Script with ``{{variables}}`` (see :mod:`speech.variables`).
    rows : sequence of BatchRow
        From :func:`read_rows`; pass a subset to render only some.
    out_dir : str or Path
        Created if missing; gets ``NAME.mp4`` (+ ``.srt``/``.vtt``) per row and ``summary.csv``.
    progress : Progress
        Stages are prefixed with the row, e.g. ``"row 2/5: rendering frames"``.
    on_row : callable, optional
        Called with each :class:`RowResult` as soon as the row is done.

    Raises
    ------
    ScriptError
        Malformed placeholder markup in the template (no row could succeed).
    UserInputError
        ``out_dir`` exists and is not a folder.
    """
    from podium.speech.variables import find_placeholders

    # 1. checks that would fail every row
    find_placeholders(template)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserInputError(f"'{out_dir}' is a file; give a folder for the batch's videos")
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = out_dir / SUMMARY_NAME
    results: list[RowResult] = []
    seen: set[str] = set()
    # 2. rows; the summary is written even when the batch is interrupted
    try:
        for k, row in enumerate(rows, start=1):
            result = _render_row(record, template, row, out_dir, options, seen,
                                 lambda stage, done, total: progress(f"row {k}/{len(rows)}: {stage}",
                                                                     done, total))
            results.append(result)
            if on_row is not None:
                on_row(result)
    finally:
        # 3. summary
        write_summary(results, summary)
    return BatchSummary(tuple(results), summary)


def _render_row(record, template, row, out_dir, options, seen, progress) -> RowResult:
    from podium.speech.variables import fill_variables

    if row.name in seen:
        return RowResult(row.index, row.name, None, None, "failed",
                         f"file name {row.name!r} is used by an earlier row")
    seen.add(row.name)
    video = out_dir / f"{row.name}.mp4"
    if video.exists():
        return RowResult(row.index, row.name, video, _video_duration(video), "skipped",
                         None)
    try:
        script = fill_variables(template, row.values)
        result = render_script(record, script, video, options=options, progress=progress)
    except PodiumError as exc:  # a bad row (missing variable, unsayable text) fails alone
        return RowResult(row.index, row.name, None, None, "failed", str(exc))
    return RowResult(row.index, row.name, video, round(result.duration, 2), "rendered")
