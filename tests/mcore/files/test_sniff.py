import io

import pytest
from PIL import Image

from mcore.files.sniff import is_allowed, is_safe_inline, sniff


def image_bytes(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("TIFF", "image/tiff"),
        ("BMP", "image/bmp"),
    ],
)
def test_images_by_magic(fmt: str, expected: str) -> None:
    assert sniff(image_bytes(fmt), complete=True) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video/mp4"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "image/avif"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm", "video/webm"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"ID3\x04\x00", "audio/mpeg"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"fLaC\x00", "audio/flac"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "text/html"),
        (b"  <html><script>alert(1)</script>", "text/html"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "image/svg+xml"),
        (b"<?xml version='1.0'?><note/>", "application/xml"),
        (b'{"a": 1}', "application/json"),
        ("plain text, caf\u00e9\n".encode(), "text/plain"),
        (b"\x00\x01\x02\x03binary", "application/octet-stream"),
        (b"MZ\x90\x00", "application/x-msdownload"),
        (b"", "application/x-empty"),
    ],
)
def test_formats_by_magic(head: bytes, expected: str) -> None:
    assert sniff(head, complete=True) == expected


def test_zip_family() -> None:
    assert sniff(b"PK\x03\x04" + b"\x00" * 26 + b"word/document.xml").endswith(
        "wordprocessingml.document"
    )
    odt = b"PK\x03\x04" + b"\x00" * 26 + b"mimetypeapplication/vnd.oasis.opendocument.text"
    assert sniff(odt) == "application/vnd.oasis.opendocument.text"
    assert sniff(b"PK\x03\x04" + b"\x00" * 40) == "application/zip"


def test_text_cut_mid_character_is_still_text() -> None:
    head = ("é" * 100).encode()[:-1]  # a sample cut inside the last character
    assert sniff(head, complete=False) == "text/plain"
    assert sniff(head, complete=True) == "application/octet-stream"


def test_allowed_patterns() -> None:
    allowed = ["image/*", "application/pdf"]
    assert is_allowed("image/png", allowed)
    assert is_allowed("application/pdf", allowed)
    assert not is_allowed("text/html", allowed)
    assert not is_allowed("application/pdfx", allowed)


def test_html_and_svg_are_never_inline() -> None:
    assert not is_safe_inline("text/html")
    assert not is_safe_inline("image/svg+xml")
    assert is_safe_inline("image/png")
