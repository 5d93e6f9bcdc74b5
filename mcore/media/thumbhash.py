"""ThumbHash (Evan Wallace's compact image placeholder): encoder and a small decoder.

A ThumbHash is about 25 bytes that a client turns into a blurred stand-in while the real
preview loads; it keeps the aspect ratio, the average colour and alpha. The encoder
follows the reference implementation; :func:`average_rgba` and :func:`aspect_ratio` read
a hash back (used by tests and by clients that only want a background colour).
"""

from __future__ import annotations

import base64
import math


def _encode_channel(
    channel: list[float], width: int, height: int, nx: int, ny: int
) -> tuple[float, list[float], float]:
    dc = 0.0
    ac: list[float] = []
    scale = 0.0
    cos_x = [[math.cos(math.pi / width * cx * (x + 0.5)) for x in range(width)] for cx in range(nx)]
    cos_y = [
        [math.cos(math.pi / height * cy * (y + 0.5)) for y in range(height)] for cy in range(ny)
    ]
    for cy in range(ny):
        cx = 0
        while cx * ny < nx * (ny - cy):
            fx = cos_x[cx]
            fy = cos_y[cy]
            total = 0.0
            for y in range(height):
                row = channel[y * width : (y + 1) * width]
                total += fy[y] * sum(v * f for v, f in zip(row, fx, strict=True))
            total /= width * height
            if cx > 0 or cy > 0:
                ac.append(total)
                scale = max(scale, abs(total))
            else:
                dc = total
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * v for v in ac]
    return dc, ac, scale


def encode(width: int, height: int, rgba: bytes) -> bytes:
    """The ThumbHash of an RGBA image of at most 100x100 pixels."""
    if width > 100 or height > 100:
        raise ValueError(f"{width}x{height} does not fit in 100x100")
    if len(rgba) != width * height * 4:
        raise ValueError("rgba must hold width * height * 4 bytes")
    count = width * height
    avg_r = avg_g = avg_b = avg_a = 0.0
    for i in range(count):
        alpha = rgba[i * 4 + 3] / 255
        avg_r += alpha / 255 * rgba[i * 4]
        avg_g += alpha / 255 * rgba[i * 4 + 1]
        avg_b += alpha / 255 * rgba[i * 4 + 2]
        avg_a += alpha
    if avg_a:
        avg_r /= avg_a
        avg_g /= avg_a
        avg_b /= avg_a
    has_alpha = avg_a < count
    l_limit = 5 if has_alpha else 7
    lx = max(1, round(l_limit * width / max(width, height)))
    ly = max(1, round(l_limit * height / max(width, height)))
    lum: list[float] = []
    p: list[float] = []
    q: list[float] = []
    a: list[float] = []
    for i in range(count):
        alpha = rgba[i * 4 + 3] / 255
        r = avg_r * (1 - alpha) + alpha / 255 * rgba[i * 4]
        g = avg_g * (1 - alpha) + alpha / 255 * rgba[i * 4 + 1]
        b = avg_b * (1 - alpha) + alpha / 255 * rgba[i * 4 + 2]
        lum.append((r + g + b) / 3)
        p.append((r + g) / 2 - b)
        q.append(r - g)
        a.append(alpha)
    l_dc, l_ac, l_scale = _encode_channel(lum, width, height, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _encode_channel(p, width, height, 3, 3)
    q_dc, q_ac, q_scale = _encode_channel(q, width, height, 3, 3)
    a_dc, a_ac, a_scale = _encode_channel(a, width, height, 5, 5) if has_alpha else (1.0, [], 1.0)
    landscape = width > height
    header24 = (
        round(63 * l_dc)
        | (round(31.5 + 31.5 * p_dc) << 6)
        | (round(31.5 + 31.5 * q_dc) << 12)
        | (round(31 * l_scale) << 18)
        | (int(has_alpha) << 23)
    )
    header16 = (
        (ly if landscape else lx)
        | (round(63 * p_scale) << 3)
        | (round(63 * q_scale) << 9)
        | (int(landscape) << 15)
    )
    out = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    if has_alpha:
        out.append(round(15 * a_dc) | (round(15 * a_scale) << 4))
    odd = False
    for values in (l_ac, p_ac, q_ac, a_ac):
        for value in values:
            nibble = round(15 * value)
            if odd:
                out[-1] |= nibble << 4
            else:
                out.append(nibble)
            odd = not odd
    return bytes(out)


def encode_base64(width: int, height: int, rgba: bytes) -> str:
    return base64.b64encode(encode(width, height, rgba)).decode()


def average_rgba(hash_: bytes) -> tuple[float, float, float, float]:
    """The average colour a hash stands for, each channel 0..1."""
    header = hash_[0] | (hash_[1] << 8) | (hash_[2] << 16)
    l_dc = (header & 63) / 63
    p_dc = ((header >> 6) & 63) / 31.5 - 1
    q_dc = ((header >> 12) & 63) / 31.5 - 1
    has_alpha = header >> 23
    a = (hash_[5] & 15) / 15 if has_alpha else 1.0
    b = l_dc - 2 / 3 * p_dc
    r = (3 * l_dc - b + q_dc) / 2
    g = r - q_dc
    return (max(0.0, min(1.0, r)), max(0.0, min(1.0, g)), max(0.0, min(1.0, b)), a)


def aspect_ratio(hash_: bytes) -> float:
    """Width over height, as far as the hash keeps it."""
    limit = 5 if hash_[2] & 0x80 else 7
    stored = hash_[3] & 7
    landscape = hash_[4] & 0x80
    lx = limit if landscape else stored
    ly = stored if landscape else limit
    return lx / ly
