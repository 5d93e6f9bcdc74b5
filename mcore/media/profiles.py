"""Which processing a file gets, from its detected content type (never its name)."""

from __future__ import annotations

from enum import StrEnum

from mcore.files.derivatives import IMAGE_TYPES, PUBLIC_COPY, Recipe
from mcore.media.document import is_office
from mcore.media.ocr import ENGINE, MODEL_NAME, PDF_DPI
from mcore.settings import Settings

PREVIEW_SIZES = [256, 1024]
PREVIEW_QUALITY = 80


class Profile(StrEnum):
    image = "image"
    video = "video"  # video and audio: probed; a poster when there is a picture
    document = "document"
    other = "other"  # stored as it is, nothing to process


def profile_for(content_type: str) -> Profile:
    """The processing profile of a detected content type."""
    if content_type in IMAGE_TYPES:
        return Profile.image
    if content_type.startswith(("video/", "audio/")):
        return Profile.video
    if content_type == "application/pdf" or is_office(content_type):
        return Profile.document
    return Profile.other


def max_size(profile: Profile, settings: Settings) -> int:
    media = settings.media
    return {
        Profile.image: media.image_max_size,
        Profile.video: media.video_max_size,
        Profile.document: media.document_max_size,
    }.get(profile, 0)


def previews_recipe(profile: Profile) -> Recipe:
    """The set of previews (and info) a profile makes; its version changes when its output
    would."""
    return Recipe(
        processor=profile.value,
        version=1,
        params={"sizes": PREVIEW_SIZES, "format": "webp", "q": PREVIEW_QUALITY},
    )


RENDITION = Recipe(
    processor="video.rendition",
    version=1,
    params={"height": 720, "vcodec": "h264", "acodec": "aac", "crf": 23, "preset": "veryfast"},
)

# An image's copy without personal metadata (``mcore.media.strip``), made with its previews.
PUBLIC_COPY_RECIPE = Recipe(processor=PUBLIC_COPY, version=1, params={"keep": "icc", "q": 95})

# Text recognition (``mcore.media.ocr``), asked for after upload or made on upload by
# ``media.ocr_on_upload``: a derived file beside the previews.
OCR = "ocr"
TRANSFORMS = (OCR,)  # the kinds POST /api/v1/files/{id}/transform accepts
OCR_TEXT = "ocr-text"
TEXT_TYPE = "text/plain; charset=utf-8"
OCR_RECIPE = Recipe(
    processor=OCR,
    version=1,
    params={"engine": ENGINE, "model": MODEL_NAME, "pdf_dpi": PDF_DPI},
)


def ocr_kind(content_type: str) -> str | None:
    """``image`` or ``pdf`` for what OCR reads, None for anything else."""
    if content_type in IMAGE_TYPES:
        return "image"
    if content_type == "application/pdf":
        return "pdf"
    return None


def ocr_size_limit(kind: str, settings: Settings) -> int:
    media = settings.media
    return media.image_max_size if kind == "image" else media.document_max_size
