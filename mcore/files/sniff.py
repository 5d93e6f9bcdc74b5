"""Content types from the bytes themselves (magic numbers), never from names or headers."""

from __future__ import annotations

import fnmatch
import re

OCTET_STREAM = "application/octet-stream"
# How many leading bytes detection looks at.
SNIFF_SIZE = 64 * 1024

_FTYP_BRANDS = {
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"qt  ": "video/quicktime",
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"3gp4": "video/3gpp",
    b"3gp5": "video/3gpp",
    b"3gp6": "video/3gpp",
    b"3g2a": "video/3gpp2",
}

_SIMPLE: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"BM", "image/bmp"),
    (b"\x00\x00\x01\x00", "image/vnd.microsoft.icon"),
    (b"8BPS", "image/vnd.adobe.photoshop"),
    (b"\xff\x0a", "image/jxl"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "image/jxl"),
    (b"%PDF-", "application/pdf"),
    (b"fLaC", "audio/flac"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"MThd", "audio/midi"),
    (b"{\\rtf", "application/rtf"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"\x7fELF", "application/x-executable"),
    (b"MZ", "application/x-msdownload"),
    (b"\x00asm", "application/wasm"),
    (b"wOFF", "font/woff"),
    (b"wOF2", "font/woff2"),
    (b"SQLite format 3\x00", "application/vnd.sqlite3"),
]

_ZIP_MARKERS: list[tuple[bytes, str]] = [
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
]
_ODF = re.compile(rb"mimetypeapplication/(vnd\.oasis\.opendocument\.[a-z.-]+|epub\+zip)")
_HTML = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|script|iframe|h1|div|table|a\s|"
    rb"title|style|b>|p>|br|font)",
    re.IGNORECASE | re.DOTALL,
)
_XML = re.compile(rb"^\s*<\?xml[^>]*>", re.IGNORECASE)
_SVG = re.compile(rb"<svg[\s>]", re.IGNORECASE)


def _zip(head: bytes) -> str:
    if match := _ODF.search(head[:256]):
        return "application/" + match.group(1).decode()
    for marker, kind in _ZIP_MARKERS:
        if marker in head:
            return kind
    return "application/zip"


def _riff(head: bytes) -> str | None:
    if not head.startswith(b"RIFF"):
        return None
    kind = head[8:12]
    return {
        b"WEBP": "image/webp",
        b"WAVE": "audio/wav",
        b"AVI ": "video/x-msvideo",
    }.get(kind)


def _ftyp(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in _FTYP_BRANDS:
        return _FTYP_BRANDS[brand]
    # compatible brands can name an image format (e.g. major "mif1", compatible "avif")
    size = int.from_bytes(head[0:4], "big")
    compat = head[16 : min(size, 64)]
    for i in range(0, len(compat) - 3, 4):
        if compat[i : i + 4] in (b"avif", b"heic"):
            return _FTYP_BRANDS[compat[i : i + 4]]
    return "video/mp4"


def _ebml(head: bytes) -> str | None:
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    return "video/webm" if b"webm" in head[:64] else "video/x-matroska"


def _text(head: bytes, complete: bool) -> str | None:
    sample = head
    if sample.startswith(b"\xef\xbb\xbf"):
        sample = sample[3:]
    if b"\x00" in sample:
        return None
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is still text
        if complete or exc.start < len(sample) - 4:
            return None
    if _HTML.match(sample):
        return "text/html"
    if _XML.match(sample) or sample.lstrip().startswith(b"<svg"):
        return "image/svg+xml" if _SVG.search(sample[:4096]) else "application/xml"
    stripped = sample.lstrip()
    if stripped[:1] in (b"{", b"[") and sample.rstrip()[-1:] in (b"}", b"]"):
        return "application/json"
    return "text/plain"


def _mpeg_audio(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and head[1] != 0xFF


def sniff(head: bytes, *, complete: bool = False) -> str:
    """The content type of a file from its first bytes (``complete``: head is the whole file).

    Unknown binary data is ``application/octet-stream``.
    """
    if not head:
        return "application/x-empty"
    for magic, simple in _SIMPLE:
        if head.startswith(magic):
            return simple
    if head.startswith(b"PK\x03\x04"):
        return _zip(head)
    for detector in (_riff, _ftyp, _ebml):
        if found := detector(head):
            return found
    if head[:3] == b"\x47\x40\x00" or (len(head) > 188 and head[0] == 0x47 and head[188] == 0x47):
        return "video/mp2t"
    if _mpeg_audio(head):
        return "audio/mpeg"
    return _text(head, complete) or OCTET_STREAM


def is_allowed(content_type: str, allowed: list[str]) -> bool:
    """True when a detected type matches one of the allowed patterns (``image/*`` style)."""
    return any(fnmatch.fnmatchcase(content_type, pattern) for pattern in allowed)


# Types a browser may show inline from our origin; everything else is an attachment.
SAFE_INLINE = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "image/vnd.microsoft.icon",
        "text/plain",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/flac",
        "audio/mp4",
        "video/mp4",
        "video/webm",
        "video/quicktime",
        "video/ogg",
    }
)


def is_safe_inline(content_type: str) -> bool:
    return content_type in SAFE_INLINE
