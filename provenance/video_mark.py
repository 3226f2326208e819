"""An invisible watermark in the pictures: a static spread-spectrum pattern on a coarse grid.

How it works
------------
The frame is divided into a grid of cells, ``GRID_SHORT`` cells along its short side (cells
are square; the long side gets as many as fit). Every cell carries one chip, +-1: a third of
the cells form a known *pilot*, the rest are shared out among the 48 coded bits of the payload
(:mod:`podium.provenance.payload`), each chip multiplied by a fixed pseudo-random sign. The
chips are interpolated smoothly to full resolution and added to the luma of every frame, a
little stronger where the picture is busy (masking) and never more than ``MAX_LEVELS`` grey
levels.

Because the grid is defined relative to the frame, a scaled copy carries the same grid; because
the pattern is the same in every frame, any part of the video carries all of it, and an
encoder that copies static background from frame to frame copies the mark with it. The
detector averages the cell means of many frames, removes the picture by subtracting each cell's
neighbours (the mark's cells are independent, the picture's are not), weights cells by how
quiet the picture is there, and correlates with the pilot: on unmarked input that correlation,
normalised by its own spread, is standard normal whatever the picture (the chips are random
signs independent of it), which is what makes the false-alarm rate a calculation.

What it does not survive: cropping or rotating (the grid moves), a camera filming a screen,
mirroring, heavy blurring.
"""

from __future__ import annotations

import numpy as np

from podium.provenance import payload
from podium.provenance.reading import MarkReading, false_alarm

#: Cells along the frame's short side the marker may choose (the detector tries each).
GRIDS = (48, 64, 80, 96, 112, 128, 144, 160)
#: Target cell size at the rendered resolution, pixels: about 4 px once a copy is halved,
#: which H.264 at CRF 28 still keeps.
CELL_PX = 8.0
#: Fraction of cells that carry the pilot (presence), the rest carry the payload.
PILOT_SHARE = 0.2
#: Peak mark amplitude in grey levels (0-255), on flat areas and on busy ones.
FLAT_LEVELS = 2.1
MAX_LEVELS = 4.2
#: The pattern's seed is public: any Podium can find a Podium mark.
SEED = 0x9D1A_2026


def grid_for(width: int, height: int) -> int:
    """Cells along the short side the marker uses for a ``width`` x ``height`` render."""
    want = min(width, height) / CELL_PX
    return min(GRIDS, key=lambda g: abs(g - want))


def grid_size(width: int, height: int, short: int) -> tuple[int, int]:
    """(columns, rows) of a grid with ``short`` cells along the short side of the frame."""
    if width <= 0 or height <= 0:
        raise ValueError(f"bad frame size {width}x{height}")
    if width >= height:
        return max(short, round(short * width / height)), short
    return short, max(short, round(short * height / width))


def _layout(cols: int, rows: int):
    """Per cell: pseudo-random sign, and which bit it carries (-1: pilot).

    Returns
    -------
    signs : np.ndarray
        float32 (rows, cols), +-1.
    bit_of : np.ndarray
        int16 (rows, cols), -1 for pilot cells, else 0..CODED_BITS-1.
    """
    rng = np.random.default_rng([SEED, cols, rows])
    n = rows * cols
    signs = rng.choice(np.array([-1.0, 1.0], np.float32), size=n)
    order = rng.permutation(n)
    n_pilot = int(round(n * PILOT_SHARE))
    bit_of = np.empty(n, np.int16)
    bit_of[order[:n_pilot]] = -1
    bit_of[order[n_pilot:]] = np.arange(n - n_pilot) % payload.CODED_BITS
    return signs.reshape(rows, cols), bit_of.reshape(rows, cols)


def chips(cols: int, rows: int, render_id: int) -> np.ndarray:
    """The +-1 chip of every cell for ``render_id``: float32 (rows, cols)."""
    signs, bit_of = _layout(cols, rows)
    bits = payload.encode(render_id)
    value = np.where(bit_of < 0, 1.0, bits[np.clip(bit_of, 0, None)])
    return (signs * value).astype(np.float32)


def _luma(frame: np.ndarray) -> np.ndarray:
    """float32 (h, w) luma of an RGB uint8 frame (BT.601 weights)."""
    f = frame.astype(np.float32)
    return f[..., 0] * 0.299 + f[..., 1] * 0.587 + f[..., 2] * 0.114


def _activity(frame: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """How busy the picture is around each cell: float32 (rows, cols), 0 flat .. 1 busy."""
    import cv2

    y = _luma(frame)
    fine = cv2.resize(y, (cols * 4, rows * 4), interpolation=cv2.INTER_AREA)
    detail = np.abs(fine - cv2.GaussianBlur(fine, (0, 0), 1.5))
    per_cell = cv2.resize(detail, (cols, rows), interpolation=cv2.INTER_AREA)
    per_cell = cv2.GaussianBlur(per_cell, (0, 0), 1.0)
    return np.clip(per_cell / 6.0, 0.0, 1.0)


#: The picture's own cell-scale detail is flattened by up to this many grey levels (times
#: ``CANCEL_SHARE``): it is what the detector hears as noise, and on flat areas it is small.
CANCEL_LEVELS = 2.0
CANCEL_SHARE = 0.8


def _cell_residual(y: np.ndarray, cols: int, rows: int) -> np.ndarray:
    import cv2

    cell = cv2.resize(y, (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float64)
    ring = np.ones((3, 3), np.float64) / 8.0
    ring[1, 1] = 0.0
    return cell - cv2.filter2D(cell, -1, ring, borderType=cv2.BORDER_REFLECT)


def _cancellation(frame: np.ndarray, cols: int, rows: int) -> np.ndarray:
    if CANCEL_LEVELS <= 0:
        return np.zeros((rows, cols), np.float32)
    r = _cell_residual(_luma(frame), cols, rows)
    return (CANCEL_SHARE * np.clip(r, -CANCEL_LEVELS, CANCEL_LEVELS)).astype(np.float32)


class FrameMarker:
    """Adds the mark of one render to frames of one size.

    The mark is computed once (its strength masked by the first frame's detail) and then added
    with two saturating byte operations per frame, so it costs well under a millisecond.

    Parameters
    ----------
    render_id : int
        The 32-bit render id to carry.
    size : tuple[int, int]
        (width, height) of the frames, pixels.
    """

    def __init__(self, render_id: int, size: tuple[int, int]):
        self.render_id = render_id
        self.size = (int(size[0]), int(size[1]))
        self._plus: np.ndarray | None = None
        self._minus: np.ndarray | None = None

    def delta(self, first_frame: np.ndarray) -> np.ndarray:
        """The luma offsets, grey levels: int16 (h, w), from the first frame's detail."""
        import cv2

        width, height = self.size
        cols, rows = grid_size(width, height, grid_for(width, height))
        amp = FLAT_LEVELS + (MAX_LEVELS - FLAT_LEVELS) * _activity(first_frame, cols, rows)
        cells = chips(cols, rows, self.render_id) * amp
        cells = cells - _cancellation(first_frame, cols, rows)
        full = cv2.resize(cells, (width, height), interpolation=cv2.INTER_CUBIC)
        return np.clip(np.rint(full), -MAX_LEVELS, MAX_LEVELS).astype(np.int16)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """The frame with the mark added: uint8 (h, w, 3) RGB in and out."""
        import cv2

        if (frame.shape[1], frame.shape[0]) != self.size:
            raise ValueError(f"frame is {frame.shape[1]}x{frame.shape[0]}, marker is for "
                             f"{self.size[0]}x{self.size[1]}")
        if self._plus is None:
            d = self.delta(frame)
            # Equal offsets on R, G and B change luma by the offset and leave hue alone.
            self._plus = np.repeat(np.clip(d, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
            self._minus = np.repeat(np.clip(-d, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
        out = cv2.add(frame, self._plus)
        return cv2.subtract(out, self._minus, dst=out)


class _GridDetector:
    """Cell sums of the frames for one candidate grid."""

    def __init__(self, size: tuple[int, int], short: int):
        self.cols, self.rows = grid_size(*size, short)
        self.sum = np.zeros((self.rows, self.cols), np.float64)

    def add(self, luma: np.ndarray) -> None:
        import cv2

        self.sum += cv2.resize(luma, (self.cols, self.rows), interpolation=cv2.INTER_AREA)

    def score(self, frames: int) -> tuple[float, int | None]:
        """(pilot z-score, decoded render id or None)."""
        import cv2

        mean = self.sum / max(frames, 1)
        ring = np.ones((3, 3), np.float64) / 8.0
        ring[1, 1] = 0.0
        r = mean - cv2.filter2D(mean, -1, ring, borderType=cv2.BORDER_REFLECT)
        # Busy cells (edges, hair) are loud and say little: weight by the local quiet.
        local = cv2.blur(r * r, (5, 5), borderType=cv2.BORDER_REFLECT)
        weight = 1.0 / (local + 4.0)
        signs, bit_of = _layout(self.cols, self.rows)
        term = weight * r * signs
        pilot = bit_of < 0
        spread = np.sqrt(np.sum((weight * r)[pilot] ** 2))
        z = float(np.sum(term[pilot]) / spread) if spread > 0 else 0.0
        soft = np.bincount(bit_of[~pilot].astype(np.int64), weights=term[~pilot],
                           minlength=payload.CODED_BITS)
        return z, payload.decode(soft)


class FrameDetector:
    """Accumulates frames of one video and says whether they carry a Podium mark.

    Every grid the marker may have chosen is tried (the copy may be scaled); the best score is
    corrected for that (Bonferroni), so it stays standard normal on unmarked input.

    Parameters
    ----------
    size : tuple[int, int]
        (width, height) of the frames as decoded, pixels (any scale of the marked video).
    """

    def __init__(self, size: tuple[int, int]):
        self._grids = [_GridDetector(size, g) for g in GRIDS if g <= min(size)]
        self.frames = 0

    def add(self, frame: np.ndarray) -> None:
        """Add one frame: uint8 (h, w, 3) RGB (or (h, w) luma)."""
        y = _luma(frame) if frame.ndim == 3 else frame.astype(np.float32)
        for grid in self._grids:
            grid.add(y)
        self.frames += 1

    def reading(self, seconds: float = 0.0) -> MarkReading:
        """The verdict over the frames added so far."""
        if self.frames == 0 or not self._grids:
            return MarkReading.from_score(0.0, None, seconds)
        scored = [grid.score(self.frames) for grid in self._grids]
        z, render_id = max(scored, key=lambda item: item[0])
        return MarkReading.from_score(corrected_score(z, len(scored)), render_id, seconds)


def corrected_score(z: float, tests: int) -> float:
    """The best of ``tests`` standard-normal scores mapped back to a score whose upper tail is
    that of one standard normal (Bonferroni: p -> tests * p); below the median it reads 0."""
    from statistics import NormalDist

    p = tests * false_alarm(z)
    if p <= 0.0:
        return z  # beyond float precision: far above any threshold either way
    if p >= 0.5:
        return 0.0
    return -NormalDist().inv_cdf(p)
