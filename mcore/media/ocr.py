"""Text recognition (OCR) of images and scanned PDF pages, in a sandbox child.

RapidOCR runs PaddleOCR's PP-OCRv6 models (text detection, orientation, recognition) on
ONNX Runtime. The models ship inside the ``rapidocr`` wheel and are named here by path,
so nothing is ever downloaded: a missing model is an error, never a fetch. Each call
recognizes one image or one PDF page, so a long document reports progress page by page
and every page has its own time and memory limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcore.media.errors import OverLimit, ProcessingError

ENGINE = "rapidocr"
MODELS = {  # the files inside the rapidocr wheel's models folder
    "Det": "PP-OCRv6_det_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
}
MODEL_NAME = "PP-OCRv6-small"
# Pages are rendered at this resolution (print scans are usually 200-300 dpi) ...
PDF_DPI = 200
# ... and any image is scaled down so its long edge is at most this, which keeps small
# print legible and bounds the work on a huge scan.
MAX_EDGE = 4096
# A PDF page with at least this many characters in its text layer is not a scan: its
# text is in the document's ``text`` derivative already, and it is not recognized again.
TEXT_LAYER_CHARS = 16
MIN_SCORE = 0.5  # recognized lines the model is less sure of are dropped


def _engine(threads: int) -> Any:
    import rapidocr
    from rapidocr import RapidOCR

    models = Path(rapidocr.__file__).parent / "models"
    params: dict[str, Any] = {
        "Global.log_level": "error",
        "Global.text_score": MIN_SCORE,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    for part, name in MODELS.items():
        path = models / name
        if not path.is_file():
            raise ProcessingError(
                f"the OCR model {name} is missing from the rapidocr package; reinstall it",
                permanent=False,
            )
        params[f"{part}.model_path"] = str(path)
    return RapidOCR(params=params)


def _image_png(src: str, out: Path, max_pixels: int) -> tuple[int, int]:
    """The image's first frame flattened onto white, as 8-bit sRGB PNG, scaled down to
    ``MAX_EDGE`` (libvips reads it in the sandbox as the previews do)."""
    import pyvips

    try:
        header = pyvips.Image.new_from_file(src, access="sequential", fail=True)
    except pyvips.Error as exc:
        raise ProcessingError(f"not an image this server can read: {exc}") from None
    if header.width * header.height > max_pixels:
        raise OverLimit(
            f"the image is {header.width}x{header.height} pixels; this server reads at most"
            f" {max_pixels} pixels"
        )
    edge = max(header.width, header.height)
    image = pyvips.Image.thumbnail(
        src, min(edge, MAX_EDGE), height=min(edge, MAX_EDGE), size="down", fail_on="error"
    )
    if image.interpretation not in ("srgb", "b-w"):
        image = image.colourspace("srgb")
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.format != "uchar":
        image = image.cast("uchar")
    image.pngsave(str(out), compression=1, keep="none")
    return int(image.width), int(image.height)


def _pdf_page_png(src: str, page_index: int, out: Path) -> tuple[int, str, tuple[int, int]]:
    """The PDF's page count, the page's own text layer, and the page rendered for OCR."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(src)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ProcessingError("the PDF is protected by a password") from None
        raise ProcessingError(f"not a PDF this server can read: {exc}") from None
    pages = len(pdf)
    if pages == 0:
        raise ProcessingError("the PDF has no pages, so there is no text to recognize")
    if page_index >= pages:
        return pages, "", (0, 0)
    page = pdf[page_index]
    layer = page.get_textpage().get_text_bounded()
    if len(layer.strip()) >= TEXT_LAYER_CHARS:
        return pages, layer, (0, 0)
    width_pt, height_pt = page.get_size()
    if width_pt <= 0 or height_pt <= 0:
        return pages, layer, (0, 0)
    scale = min(PDF_DPI / 72, MAX_EDGE / max(width_pt, height_pt))
    bitmap = page.render(scale=scale, grayscale=True)
    image = bitmap.to_pil()
    image.save(out)
    return pages, layer, image.size


def recognize(
    items: list[dict[str, Any]],
    out_dir: str,
    max_pixels: int,
    max_pages: int,
    threads: int,
) -> dict[str, Any]:
    """The text lines recognized, top to bottom, in each of ``items``: an image
    (``{"src", "kind": "image"}``) or one page of a PDF (``{"src", "kind": "pdf", "page"}``,
    from 0). The model is loaded once for all of them. A PDF page with a text layer is
    skipped (it needs no OCR). ``pages`` is the PDF's page count. Runs in a sandbox child."""
    out = Path(out_dir) / "ocr-page.png"
    engine = None
    pages = 0
    results: list[dict[str, Any]] = []
    for item in items:
        src, kind = str(item["src"]), str(item["kind"])
        if kind == "pdf":
            pages, _, size = _pdf_page_png(src, int(item["page"]), out)
            if pages > max_pages:
                raise OverLimit(
                    f"the document has {pages} pages; this server recognizes text in at most"
                    f" {max_pages}. The original is kept."
                )
            if size == (0, 0):
                results.append({"lines": [], "scores": [], "skipped": True})
                continue
        elif kind == "image":
            size = _image_png(src, out, max_pixels)
        else:
            raise ProcessingError(f"OCR reads images and PDFs, not {kind!r}")
        if engine is None:
            engine = _engine(threads)
        try:
            result = engine(str(out))
        finally:
            out.unlink(missing_ok=True)
        results.append(
            {
                "lines": [str(t) for t in (result.txts or ())],
                "scores": [round(float(s), 4) for s in (result.scores or ())],
                "skipped": False,
                "width": size[0],
                "height": size[1],
            }
        )
    return {"pages": pages, "results": results}
