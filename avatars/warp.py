"""Piecewise-affine image warping driven by point correspondences.

Used to reshape lips and eyelids: the destination points are triangulated, and
every destination pixel is pulled from the source through its triangle's
barycentric coordinates. Pixels outside the hull keep an identity mapping.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import Delaunay


def border_points(width: int, height: int, *, per_side: int = 4) -> np.ndarray:
    """Points along the image border, shape (4 * per_side, 2), pixels."""
    t = np.linspace(0.0, 1.0, per_side, endpoint=False)
    w, h = width - 1.0, height - 1.0
    top = np.stack([t * w, np.zeros_like(t)], 1)
    right = np.stack([np.full_like(t, w), t * h], 1)
    bottom = np.stack([w - t * w, np.full_like(t, h)], 1)
    left = np.stack([np.zeros_like(t), h - t * h], 1)
    return np.concatenate([top, right, bottom, left]).astype(np.float64)


def triangulate(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles of ``points`` (n, 2), as int32 vertex indices (m, 3)."""
    pts = np.asarray(points, np.float64)
    pts = pts + np.random.default_rng(0).normal(scale=1e-3, size=pts.shape)
    return Delaunay(pts).simplices.astype(np.int32)


def warp_maps(src: np.ndarray, dst: np.ndarray, width: int, height: int,
              triangles: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Remap tables that move ``src`` points onto ``dst`` points.

    Parameters
    ----------
    src, dst : np.ndarray
        Corresponding points, shape (n, 2), pixels of the source / destination image.
    width, height : int
        Destination size in pixels.
    triangles : np.ndarray, optional
        (m, 3) vertex indices. Pass a triangulation made on an *open* mouth when
        the destination closes it: the triangles between the lips then shrink to
        nothing instead of dragging teeth over the lips. Default: Delaunay of ``dst``.

    Returns
    -------
    map_x, map_y : np.ndarray
        float32, shape (height, width): source coordinates for ``cv2.remap``.
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if triangles is None:
        triangles = triangulate(dst)
    index = np.full((height, width), -1, np.int32)
    affines = np.zeros((len(triangles), 2, 3))
    for t, tri in enumerate(triangles):
        d = dst[tri]
        area = (d[1, 0] - d[0, 0]) * (d[2, 1] - d[0, 1]) - (d[2, 0] - d[0, 0]) * (d[1, 1] - d[0, 1])
        if abs(area) < 1e-6:
            continue
        affines[t] = cv2.getAffineTransform(d.astype(np.float32), src[tri].astype(np.float32))
        cv2.fillConvexPoly(index, np.round(d * 16).astype(np.int32), t, lineType=cv2.LINE_8, shift=4)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    map_x, map_y = xs.copy(), ys.copy()
    inside = index >= 0
    a = affines[index[inside]]
    px, py = xs[inside], ys[inside]
    map_x[inside] = a[:, 0, 0] * px + a[:, 0, 1] * py + a[:, 0, 2]
    map_y[inside] = a[:, 1, 0] * px + a[:, 1, 1] * py + a[:, 1, 2]
    return map_x, map_y


def warp_image(image: np.ndarray, src: np.ndarray, dst: np.ndarray,
               triangles: np.ndarray | None = None) -> np.ndarray:
    """Warp ``image`` so that its ``src`` points land on ``dst`` (same output size)."""
    h, w = image.shape[:2]
    mx, my = warp_maps(src, dst, w, h, triangles)
    return cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
