"""Original filenames: cleaned and kept as metadata, never used to build a path."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

MAX_NAME_BYTES = 255
FALLBACK = "untitled"


def sanitize_filename(name: str | None) -> str:
    """A display name from what a client sent: last path segment, NFC, no control characters.

    Bidirectional overrides and other invisible format characters are dropped so a name
    cannot pretend to end in another extension.
    """
    if not name:
        return FALLBACK
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = []
    for ch in name:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\v\f":
            kept.append(" ")
            continue
        if cat in ("Cc", "Cs", "Co", "Cn"):
            continue
        if cat == "Cf" and ch not in ("\u200c", "\u200d"):
            continue
        kept.append(" " if cat.startswith("Z") else ch)
    cleaned = " ".join("".join(kept).split()).strip(" .")
    if not cleaned:
        return FALLBACK
    return _truncate(cleaned)


def _truncate(name: str) -> str:
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode()) > 16:
        stem, ext = name, ""
    budget = MAX_NAME_BYTES - (len(ext.encode()) + 1 if ext else 0)
    out = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore").rstrip(" .")
    return f"{out}.{ext}" if ext else out


def ascii_fallback(filename: str) -> str:
    """The name in plain ASCII for ``filename=``: look-alikes folded (NFKD), accents
    dropped, the rest replaced by ``_``, then cleaned again as an upload's name is.

    Cleaning comes after folding: full-width ``．．／`` folds to ``../``, which must not
    reach a client that saves under the ASCII name.
    """
    folded = "".join(
        ch if 0x20 <= ord(ch) < 0x7F else "_"
        for ch in unicodedata.normalize("NFKD", filename)
        if not unicodedata.combining(ch)
    )
    cleaned = sanitize_filename(folded)
    return "".join("_" if ch in '"%;' else ch for ch in cleaned)


def content_disposition(disposition: str, filename: str) -> str:
    """An RFC 6266 header value: an ASCII fallback plus the UTF-8 ``filename*``."""
    encoded = quote(filename, safe="")
    return f"{disposition}; filename=\"{ascii_fallback(filename)}\"; filename*=UTF-8''{encoded}"


# The file name extension of each derived file's content type (parameters ignored).
DERIVED_EXTENSIONS = {
    "image/webp": "webp",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/avif": "avif",
    "video/mp4": "mp4",
    "text/plain": "txt",
    "application/json": "json",
}


def derived_extension(content_type: str) -> str:
    """The extension a derived file of ``content_type`` is saved with (``bin`` if unknown)."""
    return DERIVED_EXTENSIONS.get(content_type.split(";", 1)[0].strip().lower(), "bin")


def derived_filename(source: str, name: str, content_type: str) -> str:
    """The download name of a derived file: the source's name without its extension, the
    derivative's name, and the extension of what it is (``photo.preview-1024.webp``)."""
    stem, dot, _ = source.rpartition(".")
    if not dot or not stem:
        stem = source
    suffix = f".{name}.{derived_extension(content_type)}"
    budget = MAX_NAME_BYTES - len(suffix.encode())
    stem = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore").rstrip(" .")
    return f"{stem or FALLBACK}{suffix}"
