import pytest

from mcore.files.names import MAX_NAME_BYTES, content_disposition, sanitize_filename


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
