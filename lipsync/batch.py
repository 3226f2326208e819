"""Personalized batches: one video per CSV row, with the row's ``{{variables}}`` filled.

Re-running a batch renders only what is missing: a video that is there and complete
(video and audio, a length, every packet readable) is kept, a damaged or truncated one
is rendered again. A row that fails is reported and the batch goes on. A summary CSV
lists every row with its file, duration, status and error, also when the batch is
interrupted (Ctrl-C, or SIGTERM from the command line).

The rows file is read as CSV (quoted cells may hold line breaks), streamed, and bounded:
:data:`MAX_BATCH_FILE_BYTES`, :data:`MAX_BATCH_ROWS`, :data:`MAX_BATCH_COLUMNS` and
:data:`MAX_BATCH_CELL_CHARS` (re-exported by :mod:`podium.limits`). Values are plain text
(:func:`speech.variables.fill_variables` escapes their markup characters).
"""

from __future__ import annotations

import csv
import itertools
import re
import subprocess
import time
import unicodedata
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
#: Largest rows file, bytes.
MAX_BATCH_FILE_BYTES = 10_000_000
#: Most rows (videos) in one batch; more is refused: split the file.
MAX_BATCH_ROWS = 10_000
#: Most columns of a rows file.
MAX_BATCH_COLUMNS = 200
#: Longest cell, characters.
MAX_BATCH_CELL_CHARS = 2_000
#: Longest file name made from a cell (before ``.mp4``): characters, and UTF-8 bytes.
MAX_NAME_CHARS = 80
MAX_NAME_BYTES = 160
# Device names Windows refuses as file names (also with an extension).
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    ``"rendered"``, ``"skipped"`` (already there), ``"failed"`` or ``"interrupted"``
    (the batch was stopped before this row was done)."""

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


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during :func:`render_batch`, raised once the summary is written.

    Attributes
    ----------
    summary : BatchSummary
        Every row: the ones done, and the rest as ``"interrupted"``.
    total : int
        Rows in the batch.
    """

    def __init__(self, summary: "BatchSummary", total: int):
        super().__init__(f"batch interrupted; {summary.count('rendered')} of {total} videos written, "
                         f"summary in {summary.summary_csv}")
        self.summary = summary
        self.total = total


def _safe_name(raw: str) -> str:
    """A file stem from a cell: letters and digits of every script (NFC), ``.``, ``-`` and
    ``_``; anything else (spaces, path separators, control characters) becomes ``_``; never
    starting with ``-`` or ``.``, at most :data:`MAX_NAME_CHARS` / :data:`MAX_NAME_BYTES`;
    empty when nothing is left."""
    text = unicodedata.normalize("NFC", raw)
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" or c in "._-" else "_" for c in text)
    name = re.sub(r"_{2,}", "_", kept).lstrip("._-").rstrip("._- ")[:MAX_NAME_CHARS]
    while len(name.encode("utf-8")) > MAX_NAME_BYTES:
        name = name[:-1]
    name = name.rstrip("._- ")
    if name.split(".")[0].upper() in _RESERVED:
        name += "_"
    return name


def _sniff(line: str):
    try:
        return csv.Sniffer().sniff(line, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def read_rows(csv_path: str | Path, *, name_column: str | None = None) -> list[BatchRow]:
    """Read recipients from a CSV file with a header row.

    The file is read as CSV, row by row: a quoted cell keeps its line breaks (also
    U+2028 and U+0085), blank rows are left out.

    Parameters
    ----------
    csv_path : str or Path
        UTF-8 (a BOM is fine) CSV; comma, semicolon or tab separated; at most
        :data:`MAX_BATCH_FILE_BYTES`, :data:`MAX_BATCH_ROWS` rows, :data:`MAX_BATCH_COLUMNS`
        columns and :data:`MAX_BATCH_CELL_CHARS` characters a cell.
    name_column : str, optional
        Column that names each output file; default: the first of
        :data:`NAME_COLUMNS` present, else the row number. A row without a name gets
        ``row-001``... (``row-001-2`` if another row is named that).

    Raises
    ------
    UserInputError
        Missing, unreadable, malformed or too large file, no header, no rows, an unknown
        ``name_column``.
    """
    path = Path(csv_path)
    if not path.is_file():
        raise UserInputError(f"rows file not found: '{path}'; give a CSV file with a header row")
    size = path.stat().st_size
    if size > MAX_BATCH_FILE_BYTES:
        raise UserInputError(f"'{path.name}' is larger than {MAX_BATCH_FILE_BYTES / 1e6:g} MB "
                             f"({size / 1e6:.1f} MB); split it into several batches")
    reader = None
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            first = next((line for line in f if line.strip()), None)
            if first is None:
                raise UserInputError(f"'{path.name}' is empty; it needs a header row and one row per video")
            reader = csv.reader(itertools.chain([first], f), _sniff(first))
            return _read(reader, path.name, name_column)
    except UnicodeDecodeError:
        raise UserInputError(f"'{path.name}' is not UTF-8 text; save the CSV as UTF-8") from None
    except csv.Error as exc:
        where = f" at line {reader.line_num}" if reader is not None else ""
        raise UserInputError(f"'{path.name}' is not valid CSV{where}: {exc}") from None


def _read(reader, file_name: str, name_column: str | None) -> list[BatchRow]:
    header = [h.strip() for h in next(reader)]
    if not any(header) or len(set(header)) != len(header):
        raise UserInputError(f"'{file_name}' needs a header row of distinct column names, got {header}")
    if len(header) > MAX_BATCH_COLUMNS:
        raise UserInputError(f"'{file_name}' has {len(header)} columns; the most is {MAX_BATCH_COLUMNS}")
    if name_column is not None and name_column not in header:
        raise UserInputError(f"column {name_column!r} is not in '{file_name}' (columns: {', '.join(header)})")
    column = name_column or next((c for c in NAME_COLUMNS if c in header), None)
    read: list[tuple[int, str, dict]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        index = len(read) + 1
        if index > MAX_BATCH_ROWS:
            raise UserInputError(f"'{file_name}' has more than {MAX_BATCH_ROWS} rows; split it into "
                                 f"batches of at most {MAX_BATCH_ROWS}")
        values = {}
        for i, h in enumerate(header):
            value = cells[i].strip() if i < len(cells) else ""
            if len(value) > MAX_BATCH_CELL_CHARS:
                raise UserInputError(f"row {index}, column {h!r} of '{file_name}' is longer than "
                                     f"{MAX_BATCH_CELL_CHARS} characters ({len(value)})")
            values[h] = value
        read.append((index, _safe_name(values.get(column, "")) if column else "", values))
    if not read:
        raise UserInputError(f"'{file_name}' has a header but no rows")
    # A row without a name gets row-NNN, never the name another row gives itself.
    taken = {name.casefold() for _, name, _ in read if name}
    rows = []
    for index, name, values in read:
        if not name:
            name = base = f"row-{index:03d}"
            n = 1
            while name.casefold() in taken:
                n += 1
                name = f"{base}-{n}"
            taken.add(name.casefold())
        rows.append(BatchRow(index, name, values))
    return rows


def existing_video(path: str | Path) -> float | None:
    """The duration of a complete video at ``path``, or None: missing, empty, damaged or
    truncated (checked with :func:`common.media.probe`: video and audio streams, a length
    over 0; then every packet read, which finds a file cut short)."""
    from podium.common.media import ffmpeg_exe, probe

    try:
        info = probe(path)
    except PodiumError:
        return None
    if info.video_codec is None or not info.has_audio or not info.duration > 0:
        return None
    try:
        proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
                               "-map", "0", "-c", "copy", "-f", "null", "-"],
                              capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0 or proc.stderr.strip():
        return None
    return round(info.duration, 2)


def _cell(text: str) -> str:
    """``text`` as a spreadsheet shows it, never runs it: a leading ``= + - @`` (or tab, CR)
    gets a ``'`` before it."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_summary(results: Sequence[RowResult], path: Path) -> None:
    """Write the summary CSV atomically (columns :data:`SUMMARY_COLUMNS`); a text cell that
    a spreadsheet would take for a formula starts with ``'``."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(SUMMARY_COLUMNS)
            for r in results:
                w.writerow([r.index, _cell(r.file.name if r.file else ""),
                            "" if r.duration is None else f"{r.duration:.2f}", _cell(r.status),
                            _cell(r.error or "")])


def render_batch(record: AvatarRecord, template: str, rows: Sequence[BatchRow], out_dir: str | Path, *,
                 options: RenderOptions = RenderOptions(), progress: Progress = silent,
                 on_row: Callable[[RowResult], None] | None = None) -> BatchSummary:
    """Render one video per row into ``out_dir``.

    Steps: 1. check the template and the folder; 2. per row: skip it when its
    video is there and complete (:func:`existing_video`), else fill the variables and
    render (a failure is recorded and the batch goes on); 3. write ``summary.csv``.

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
    BatchInterrupted
        Ctrl-C (a KeyboardInterrupt) during the rows: ``summary.csv`` is written first,
        the rows not done listed as ``"interrupted"``.
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
    started = time.time()
    # 2. rows; the summary is written even when the batch is interrupted
    try:
        for k, row in enumerate(rows, start=1):
            result = _render_row(record, template, row, out_dir, options, seen,
                                 lambda stage, done, total: progress(f"row {k}/{len(rows)}: {stage}",
                                                                     done, total))
            results.append(result)
            if on_row is not None:
                on_row(result)
    except KeyboardInterrupt as exc:
        # The row in progress may have put its video in place; the rest were not begun.
        rest = list(rows)[len(results):]
        names = {r.name.casefold() for r in results}
        results += [_unfinished(row, out_dir, started, names) for row in rest[:1]]
        results += [RowResult(row.index, row.name, None, None, "interrupted",
                              "the batch was stopped before this row") for row in rest[1:]]
        write_summary(results, summary)
        raise BatchInterrupted(BatchSummary(tuple(results), summary), len(rows)) from exc
    except BaseException:
        write_summary(results, summary)
        raise
    # 3. summary
    write_summary(results, summary)
    return BatchSummary(tuple(results), summary)


def _unfinished(row: BatchRow, out_dir: Path, started: float, earlier: set) -> RowResult:
    """The row the interrupt came during: its video may have just been put in place."""
    video = out_dir / f"{row.name}.mp4"
    mine = row.name.casefold() not in earlier  # else that file is an earlier row's
    duration = existing_video(video) if mine and video.exists() else None
    if duration is None:
        return RowResult(row.index, row.name, None, None, "interrupted",
                         "the batch was stopped before this row was done")
    status = "rendered" if video.stat().st_mtime >= started - 1 else "skipped"
    return RowResult(row.index, row.name, video, duration, status)


def _render_row(record, template, row, out_dir, options, seen, progress) -> RowResult:
    from podium.speech.variables import fill_variables

    key = row.name.casefold()  # "Ana" and "ana" are one file on macOS and Windows
    if key in seen:
        return RowResult(row.index, row.name, None, None, "failed",
                         f"file name {row.name!r} is used by an earlier row")
    seen.add(key)
    video = out_dir / f"{row.name}.mp4"
    duration = existing_video(video) if video.exists() else None
    if duration is not None:
        return RowResult(row.index, row.name, video, duration, "skipped", None)
    # A damaged or truncated video of that name is rendered again (and replaced on success).
    try:
        script = fill_variables(template, row.values)
        result = render_script(record, script, video, options=options, progress=progress)
    except PodiumError as exc:  # a bad row (missing variable, unsayable text) fails alone
        return RowResult(row.index, row.name, None, None, "failed", str(exc))
    return RowResult(row.index, row.name, video, round(result.duration, 2), "rendered")
