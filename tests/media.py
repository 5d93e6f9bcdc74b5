"""Small generated media for processing tests (pyvips, Pillow, ffmpeg)."""

from __future__ import annotations

import io
import struct
import subprocess
import zlib
from fractions import Fraction
from pathlib import Path

import pyvips
from PIL import Image

from mcore.media.tools import find_tool
from seeder.media import pdf_file


def jpeg(
    width: int = 640,
    height: int = 480,
    color: tuple[int, int, int] = (200, 60, 30),
    *,
    orientation: int | None = None,
    gps: tuple[float, float] | None = None,
    camera: str | None = None,
) -> bytes:
    """A JPEG of one colour, with an EXIF block when asked (orientation, GPS, camera)."""
    image = Image.new("RGB", (width, height), color)
    # a white square in the top-left corner shows which way the picture was turned
    image.paste((255, 255, 255), (0, 0, width // 4, height // 4))
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if camera is not None:
        exif[0x010F] = camera.split()[0]
        exif[0x0110] = camera
        exif.get_ifd(0x8769)[0x9003] = "2024:05:06 07:08:09"
    if gps is not None:
        lat, lon = gps

        def dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
            value = abs(value)
            d = int(value)
            m = int((value - d) * 60)
            s = round(((value - d) * 60 - m) * 60 * 100)
            return (Fraction(d), Fraction(m), Fraction(s, 100))

        exif[0x8825] = {
            1: "N" if lat >= 0 else "S",
            2: dms(lat),
            3: "E" if lon >= 0 else "W",
            4: dms(lon),
        }
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif.tobytes() if len(exif) else b"")
    return out.getvalue()


def png(width: int = 320, height: int = 200) -> bytes:
    colour = pyvips.Image.black(width, height, bands=3).linear([1, 1, 1], [20, 120, 220])
    return bytes(colour.cast("uchar").pngsave_buffer())


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * 3 * 64
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * 64, 9))
        + chunk(b"IEND", b"")
    )


def gif_frames(frames: int, size: int = 4) -> bytes:
    """An animated GIF with ``frames`` tiny frames (a white pixel walks, so no two
    neighbours are equal and none can be merged)."""
    images = []
    for i in range(frames):
        frame = Image.new("P", (size, size), 0)
        frame.putpalette([0, 0, 0, 255, 255, 255])
        frame.putpixel((i % size, (i // size) % size), 1)
        images.append(frame)
    out = io.BytesIO()
    images[0].save(
        out, "GIF", save_all=True, append_images=images[1:], duration=20, loop=0, optimize=False
    )
    return out.getvalue()


def ffmpeg_bin(settings_dir: Path) -> str:
    return find_tool("ffmpeg", None, settings_dir)


def make_video(
    path: Path,
    *,
    seconds: float = 2,
    size: str = "320x240",
    audio: bool = True,
    video: bool = True,
    rate: int = 25,
    tools: Path,
) -> Path:
    """A test clip made by ffmpeg's lavfi sources (H.264/AAC in MP4)."""
    ffmpeg = ffmpeg_bin(tools)
    args = [ffmpeg, "-v", "error", "-y"]
    if video:
        args += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    if video:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac"]
    args += ["-shortest", "-f", "mp4", str(path)]
    subprocess.run(args, check=True, capture_output=True)
    return path


def pdf(text: str = "Hello mstack", pages: int = 1) -> bytes:
    """A small PDF with a line of text on each page (written by hand, xref included)."""
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font_id = 3 + 2 * pages
    for i in range(pages):
        content_id = 4 + 2 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents {content_id} 0 R"
            f" /Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        stream = f"BT /F1 18 Tf 20 100 Td ({text} {i + 1}) Tj ET".encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return pdf_file(objects)


def pdf_zero_pages() -> bytes:
    return pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def pdf_encrypted(password: str = "secret") -> bytes:
    """A PDF that needs a password to open (RC4, by pypdf)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf("locked"))))
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def tiff_pages(
    colours: list[tuple[int, int, int]],
    size: tuple[int, int] = (640, 480),
    compression: str = "zstd",
) -> bytes:
    """A multi-page RGB TIFF written by Pillow (one flat colour a page, a white corner on
    the first). ZSTD and LZMA are compressions Pillow's libtiff has and libvips' has not."""
    pages = [Image.new("RGB", size, colour) for colour in colours]
    pages[0].paste((255, 255, 255), (0, 0, size[0] // 10, size[1] // 10))
    out = io.BytesIO()
    pages[0].save(
        out,
        "TIFF",
        compression=compression,
        save_all=True,
        append_images=pages[1:],
    )
    return out.getvalue()


def tiff_12bit(
    width: int, height: int, value: int, *, pages: int = 1, rows: int | None = None
) -> bytes:
    """A little-endian greyscale TIFF with 12-bit samples (as scanners write), which libvips
    refuses ("not a whole number of bytes") and Pillow reads. ``rows``: how many rows of
    pixels are really there (fewer than ``height`` gives a header that claims more)."""
    row_bytes = (width * 12 + 7) // 8
    one_row = int("".join(format(value, "012b") for _ in range(width)).ljust(row_bytes * 8, "0"), 2)
    data = one_row.to_bytes(row_bytes, "big") * (height if rows is None else rows)
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    link = 4  # where the offset of the next IFD goes
    for _ in range(pages):
        strip = len(out)
        out += data
        if len(out) % 2:
            out += b"\x00"
        entries = [
            (256, 4, width),  # ImageWidth
            (257, 4, height),  # ImageLength
            (258, 3, 12),  # BitsPerSample
            (259, 3, 1),  # Compression: none
            (262, 3, 1),  # PhotometricInterpretation: black is zero
            (273, 4, strip),  # StripOffsets
            (277, 3, 1),  # SamplesPerPixel
            (278, 4, height),  # RowsPerStrip
            (279, 4, min(row_bytes * height, 2**32 - 1)),  # StripByteCounts (as claimed)
        ]
        struct.pack_into("<I", out, link, len(out))
        out += struct.pack("<H", len(entries))
        for tag, kind, value_ in entries:
            packed = struct.pack("<I", value_) if kind == 4 else struct.pack("<HH", value_, 0)
            out += struct.pack("<HHI", tag, kind, 1) + packed
        link = len(out)
        out += b"\x00\x00\x00\x00"
    return bytes(out)


def text_image(
    text: str,
    *,
    font: str = "sans 12",
    dpi: int = 150,
    ink: tuple[int, int, int] = (20, 20, 20),
    paper: tuple[int, int, int] = (255, 255, 255),
    margin: int = 24,
    angle: float = 0,
    format: str = "png",
) -> bytes:
    """Text set by Pango (libvips' ``text``) in ``font`` at ``dpi``, ``ink`` on ``paper``,
    turned by ``angle`` degrees, as PNG or JPEG: a page whose words are known, for OCR."""
    mask = pyvips.Image.text(text, font=font, dpi=dpi)
    mask = mask.embed(margin, margin, mask.width + 2 * margin, mask.height + 2 * margin)
    if angle:
        mask = mask.rotate(angle, background=[0])
    alpha = mask.cast("float") / 255
    bands = [alpha * i + (1 - alpha) * p for i, p in zip(ink, paper, strict=True)]
    image = bands[0].bandjoin(bands[1:]).cast("uchar").copy(interpretation="srgb")
    if format == "jpeg":
        return bytes(image.jpegsave_buffer(Q=85))
    return bytes(image.pngsave_buffer())


def pdf_scan(image_jpeg: bytes, dpi: int = 200) -> bytes:
    """A one-page PDF whose page is only a JPEG picture scanned at ``dpi`` (no text layer)."""
    header = Image.open(io.BytesIO(image_jpeg))
    w, h = header.size
    width_pt, height_pt = round(w * 72 / dpi), round(h * 72 / dpi)
    stream = f"q {width_pt} 0 0 {height_pt} 0 0 cm /Im1 Do Q".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt} {height_pt}] /Contents 4 0 R"
        " /Resources << /XObject << /Im1 5 0 R >> >> >>".encode(),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceRGB"
        f" /BitsPerComponent 8 /Filter /DCTDecode /Length {len(image_jpeg)} >>\nstream\n".encode()
        + image_jpeg
        + b"\nendstream",
    ]
    return pdf_file(objects)
