"""Documents: PDF first-page preview, page count and text (PDFium, in a sandbox child);
office formats are turned into PDF first by LibreOffice when it is on the machine."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from mcore.media.errors import OverLimit, ProcessingError

RENDER_EDGE = 2048  # long edge, in pixels, of the rendered first page the previews come from

OFFICE_TYPES = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/rtf",
)


def is_office(content_type: str) -> bool:
    return content_type.startswith(OFFICE_TYPES)


def find_office_converter(configured: str | None) -> str | None:
    """LibreOffice's ``soffice`` (as configured, or on PATH), or None."""
    if configured:
        return configured if Path(configured).is_file() else shutil.which(configured)
    return shutil.which("soffice") or shutil.which("libreoffice")


def render_pdf(
    src: str,
    out_dir: str,
    sizes: list[int],
    quality: int,
    max_pages: int,
    max_text: int,
    max_pixels: int,
) -> dict[str, Any]:
    """Page count, the text of every page (up to ``max_text`` characters) and previews of
    the first page. Runs in a sandbox child."""
    import pypdfium2 as pdfium

    from mcore.media.image import make_previews

    try:
        pdf = pdfium.PdfDocument(src)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ProcessingError(
                "the PDF is protected by a password, so no preview or text can be made;"
                " the file itself is stored"
            ) from None
        if "(PDFium: Success)" in str(exc):
            # PDFium opens no document without pages, and gives no error code for it
            raise ProcessingError(
                "the PDF has no pages (or its page tree is damaged), so there is nothing to preview"
            ) from None
        raise ProcessingError(f"not a PDF this server can read: {exc}") from None
    pages = len(pdf)
    if pages == 0:
        raise ProcessingError("the PDF has no pages, so there is nothing to preview")
    if pages > max_pages:
        raise OverLimit(
            f"the document has {pages} pages; this server processes at most {max_pages}."
            " The original is kept."
        )
    out = Path(out_dir)
    text_path = out / "text.txt"
    chars = 0
    truncated = False
    with open(text_path, "w", encoding="utf-8") as f:
        for index in range(pages):
            page = pdf[index]
            text = page.get_textpage().get_text_bounded()
            if chars + len(text) > max_text:
                text = text[: max_text - chars]
                truncated = True
            f.write(text)
            if index < pages - 1:
                f.write("\f")
            chars += len(text)
            if truncated:
                break
    first = pdf[0]
    width_pt, height_pt = first.get_size()
    if width_pt <= 0 or height_pt <= 0:
        raise ProcessingError("the first page of the PDF has no size")
    scale = RENDER_EDGE / max(width_pt, height_pt)
    bitmap = first.render(scale=scale, may_draw_forms=True)
    page_png = out / "page-1.png"
    bitmap.to_pil().save(page_png)
    made = make_previews(
        str(page_png), out_dir, sizes, quality, max_pixels=max_pixels, max_frames=1
    )
    page_png.unlink()
    made["outputs"].append(
        {"name": "text", "path": str(text_path), "content_type": "text/plain; charset=utf-8"}
    )
    made["info"] = {
        "format": "pdf",
        "pages": pages,
        "page_width_pt": round(width_pt, 2),
        "page_height_pt": round(height_pt, 2),
        "text_chars": chars,
        "text_truncated": truncated,
        "placeholder": made["info"]["placeholder"],
    }
    return made
