from urllib.parse import quote

import pytest

from mcore.files.names import (
    MAX_NAME_BYTES,
    content_disposition,
    derived_filename,
    sanitize_filename,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("/abs/path/x.png", "x.png"),
        ("..", "untitled"),
        ("", "untitled"),
        (None, "untitled"),
        ("   ", "untitled"),
        ("a\x00b\x1fc.txt", "abc.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # right-to-left override dropped
        ("cafe\u0301.png", "caf\u00e9.png"),  # NFC
        ("tab\there.txt", "tab here.txt"),
        (".hidden", "hidden"),
        ("\u65e5\u672c\u8a9e.jpg", "\u65e5\u672c\u8a9e.jpg"),
    ],
)
def test_sanitize(given: str | None, expected: str) -> None:
    assert sanitize_filename(given) == expected


def test_long_names_keep_their_extension() -> None:
    name = "\u00e9" * 300 + ".jpeg"
    cleaned = sanitize_filename(name)
    assert cleaned.endswith(".jpeg")
    assert len(cleaned.encode()) <= MAX_NAME_BYTES


def test_content_disposition_rfc6266() -> None:
    header = content_disposition("attachment", 'r\u00e9sum\u00e9 "final".pdf')
    assert header.startswith('attachment; filename="resume _final_.pdf"')
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf" in header


@pytest.mark.parametrize(
    ("given", "fallback"),
    [
        ("\uff0e\uff0e\uff0f\uff0e\uff0e\uff0fetc\uff0fpasswd", "passwd"),  # ．．／．．／etc／
        ("\u2025\uff0fsecret.txt", "secret.txt"),  # ‥／ (two dot leader)
        ("\uff3c..\uff3cboot.ini", "boot.ini"),  # ＼..＼ (full-width reverse solidus)
        ("\ufe52\ufe52\uff0fx.png", "x.png"),  # ﹒﹒／ (small full stop)
        ("\uff0e\uff53\uff53\uff48", "ssh"),  # ．ｓｓｈ: no hidden name either
        ("\uff0e\uff0e", "untitled"),  # ．． folds to nothing but dots
        ("a\u2024\u2024b.txt", "a..b.txt"),  # dots inside a name are kept
    ],
)
def test_content_disposition_fallback_is_sanitised_after_folding(given: str, fallback: str) -> None:
    stored = sanitize_filename(given)  # what an upload keeps: the look-alikes stay
    header = content_disposition("attachment", stored)
    assert header.startswith(f'attachment; filename="{fallback}"; ')
    ascii_part = header.split("filename*=", 1)[0]
    assert "/" not in ascii_part
    assert "\\" not in ascii_part
    assert header.endswith("filename*=UTF-8''" + quote(stored, safe=""))


@pytest.mark.parametrize(
    ("source", "name", "content_type", "expected"),
    [
        ("photo.jpg", "preview-1024", "image/webp", "photo.preview-1024.webp"),
        ("clip.final.mov", "rendition-720", "video/mp4", "clip.final.rendition-720.mp4"),
        ("README", "text", "text/plain; charset=utf-8", "README.text.txt"),
        ("scan.tif", "odd", "application/x-unknown", "scan.odd.bin"),
    ],
)
def test_derived_filename_has_the_extension_of_what_it_is(
    source: str, name: str, content_type: str, expected: str
) -> None:
    assert derived_filename(source, name, content_type) == expected


def test_derived_filename_of_a_long_name_keeps_its_extension() -> None:
    long = "é" * 200 + ".jpg"
    derived = derived_filename(long, "preview-256", "image/webp")
    assert derived.endswith(".preview-256.webp")
    assert len(derived.encode()) <= MAX_NAME_BYTES
