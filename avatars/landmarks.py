"""MediaPipe Face Mesh index sets and the normalised face frame.

The *canonical face frame* puts the midpoint of the outer eye corners at the
origin, the eye line on the x axis and the inter-ocular distance at 1.0, with y
pointing down (towards the chin). Mouth shapes are compared and stored in it, so
they are independent of where the head sits in the picture and how big it is.
"""

from __future__ import annotations

import numpy as np

N_POINTS = 478

#: Outer lip contour (20 points), clockwise from the left corner.
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
#: Inner lip contour (20 points), clockwise from the left corner.
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
#: The 40 lip points, outer then inner.
LIPS = LIPS_OUTER + LIPS_INNER
#: Points that barely move with speech: eye corners and the nose bridge/tip.
STABLE = (33, 133, 362, 263, 168, 6, 197, 195, 5, 4)
LEFT_EYE_OUTER, RIGHT_EYE_OUTER = 33, 263
UPPER_INNER_LIP, LOWER_INNER_LIP = 13, 14
MOUTH_LEFT, MOUTH_RIGHT = 61, 291
#: Lower face contour from cheek to cheek through the chin.
JAW = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323, 454)
CHIN = 152
NOSE_BOTTOM = (2, 98, 327, 94, 164)
#: Upper eyelid and lower eyelid points of each eye, paired top-bottom for blinks.
LEFT_EYE_UPPER = (246, 161, 160, 159, 158, 157, 173)
LEFT_EYE_LOWER = (7, 163, 144, 145, 153, 154, 155)
RIGHT_EYE_UPPER = (466, 388, 387, 386, 385, 384, 398)
RIGHT_EYE_LOWER = (249, 390, 373, 374, 380, 381, 382)

#: Lip-point positions (0..39) of the two points whose gap is the mouth aperture.
APERTURE_PAIR = (LIPS.index(UPPER_INNER_LIP), LIPS.index(LOWER_INNER_LIP))
#: Lip-point positions of the mouth corners.
CORNER_PAIR = (LIPS.index(MOUTH_LEFT), LIPS.index(MOUTH_RIGHT))


def canonical_transform(points: np.ndarray) -> np.ndarray:
    """Similarity transform from image pixels to the canonical face frame.

    Parameters
    ----------
    points : np.ndarray
        Landmarks of one face, shape (478, 2), pixels.

    Returns
    -------
    m : np.ndarray
        Shape (2, 3); ``canonical = m[:, :2] @ p + m[:, 2]``.
    """
    left = points[LEFT_EYE_OUTER]
    right = points[RIGHT_EYE_OUTER]
    centre = (left + right) / 2.0
    axis = right - left
    iod = float(np.hypot(*axis))
    if iod < 1e-6:
        raise ValueError("degenerate face: eye corners coincide")
    c, s = axis / iod
    rot = np.array([[c, s], [-s, c]]) / iod
    return np.hstack([rot, (-rot @ centre)[:, None]])


def invert_similarity(m: np.ndarray) -> np.ndarray:
    """Inverse of a (2, 3) similarity/affine transform."""
    a = m[:, :2]
    inv = np.linalg.inv(a)
    return np.hstack([inv, (-inv @ m[:, 2])[:, None]])


def apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine transform to points of shape (..., 2)."""
    return pts @ m[:, :2].T + m[:, 2]


def canonical_lips(points: np.ndarray) -> np.ndarray:
    """The 40 lip points of each frame in that frame's canonical face frame.

    Parameters
    ----------
    points : np.ndarray
        Landmarks, shape (n, 478, 2), pixels; rows that are NaN (no face) stay NaN.

    Returns
    -------
    lips : np.ndarray
        Shape (n, 40, 2), canonical units.
    """
    out = np.full((len(points), len(LIPS), 2), np.nan)
    for i, p in enumerate(points):
        if not np.isnan(p[0, 0]):
            out[i] = apply(canonical_transform(p), p[list(LIPS)])
    return out


def inter_ocular(points: np.ndarray) -> np.ndarray:
    """Distance between outer eye corners, pixels; shape (...,) for points (..., 478, 2)."""
    d = points[..., RIGHT_EYE_OUTER, :] - points[..., LEFT_EYE_OUTER, :]
    return np.hypot(d[..., 0], d[..., 1])


def lip_features(lips: np.ndarray) -> np.ndarray:
    """Aperture and width of canonical lip shapes.

    Parameters
    ----------
    lips : np.ndarray
        Shape (..., 40, 2) in the canonical frame.

    Returns
    -------
    features : np.ndarray
        Shape (..., 2): inner-lip gap and corner-to-corner width, in inter-ocular units.
    """
    top, bottom = APERTURE_PAIR
    left, right = CORNER_PAIR
    aperture = lips[..., bottom, 1] - lips[..., top, 1]
    width = np.hypot(*np.moveaxis(lips[..., right, :] - lips[..., left, :], -1, 0))
    return np.stack([np.maximum(aperture, 0.0), width], axis=-1)
