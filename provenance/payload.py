"""The watermark payload: a 32-bit render id protected by a CRC-16.

Both marks (pictures and sound) carry the same 48 coded bits. The render id is random, so it
says nothing by itself; the library's render log maps it to the avatar, the date and the file.
"""

from __future__ import annotations

import secrets

import numpy as np

#: Bits of the render id a watermark carries.
ID_BITS = 32
#: Bits of the CRC that tells a decoded id from noise.
CRC_BITS = 16
#: Coded bits in every mark: id then CRC, most significant bit first.
CODED_BITS = ID_BITS + CRC_BITS


def new_render_id() -> int:
    """A random 32-bit render id, never 0 (0 reads as "no id" in logs)."""
    while True:
        value = secrets.randbits(ID_BITS)
        if value:
            return value


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF) of ``data``."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def encode(render_id: int) -> np.ndarray:
    """The coded bits of ``render_id`` as chips.

    Returns
    -------
    np.ndarray
        Shape ``(CODED_BITS,)``, float32 values +1 (bit 1) and -1 (bit 0), id first.
    """
    if not 0 < render_id < 2 ** ID_BITS:
        raise ValueError(f"render id {render_id!r} is not a 32-bit number above 0")
    word = (render_id << CRC_BITS) | crc16(render_id.to_bytes(4, "big"))
    bits = [(word >> (CODED_BITS - 1 - i)) & 1 for i in range(CODED_BITS)]
    return np.asarray(bits, np.float32) * 2.0 - 1.0


def decode(soft: np.ndarray) -> int | None:
    """The render id whose CRC matches the hard decision of ``soft``, else None.

    Parameters
    ----------
    soft : np.ndarray
        Shape ``(CODED_BITS,)``: per-bit correlations, positive for 1.
    """
    soft = np.asarray(soft, np.float64).reshape(-1)
    if soft.shape != (CODED_BITS,):
        raise ValueError(f"expected {CODED_BITS} soft bits, got {soft.shape}")
    word = 0
    for value in soft:
        word = (word << 1) | int(value > 0)
    render_id, crc = word >> CRC_BITS, word & 0xFFFF
    if render_id == 0 or crc16(render_id.to_bytes(4, "big")) != crc:
        return None
    return render_id


def format_id(render_id: int) -> str:
    """The render id as the 8 hex digits the render log and ``verify`` show."""
    return f"{render_id:08x}"
