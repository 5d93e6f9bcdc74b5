"""Video (ffprobe, poster, web rendition with progress) and documents (PDF) end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips
from sqlmodel import col, select

from mcore.db import Database
from mcore.events import Event
from mcore.media import video
from mcore.media.tools import find_tool
from mcore.settings import Settings
from tests import media
from tests.apphelpers import fast, running_app
from tests.conftest import temp_files

# Processing, not storage, is under test here: the database paths of the worker run on
# both backends in test_processing, test_worker_process and tests/mcore/jobs.
pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", ["sqlite"])]


async def test_video_gets_probe_info_and_poster_previews(
    settings: Settings, tmp_path: Path
) -> None:
    clip = media.make_video(tmp_path / "clip.mp4", seconds=2, size="640x360", tools=tmp_path)
    async with running_app(fast(settings)) as app:
        record = await app.upload(clip.read_bytes(), "clip.mp4")
        assert record["content_type"] == "video/mp4"
        job = await app.finished(record["job_id"])
        assert job["state"] == "succeeded", job
        assert job["result"]["derivatives"] == ["preview-1024", "preview-256"]
        file = await app.file(record["id"])
        info = file["media"]
        assert info["duration"] == pytest.approx(2.0, abs=0.1)
        assert (info["width"], info["height"]) == (640, 360)
        assert info["video_codec"] == "h264"
        assert info["audio_codec"] == "aac"
        assert info["frame_rate"] == pytest.approx(25)
        assert info["placeholder"]
        previews = (await app.http.get(f"/api/v1/files/{record['id']}/previews")).json()
        large = next(p for p in previews if p["name"] == "preview-1024")
        assert (large["width"], large["height"]) == (640, 360)
        poster = await app.http.get(large["url"])
        image = pyvips.Image.new_from_buffer(poster.content, "")
        assert (image.width, image.height) == (640, 360)
        assert image.avg() > 10  # a real frame, not black
    assert temp_files(settings) == []


async def test_web_rendition_reports_progress(
    settings: Settings, tmp_path: Path, db: Database
) -> None:
    clip = media.make_video(tmp_path / "clip.mp4", seconds=3, size="1280x720", tools=tmp_path)
    async with running_app(fast(settings, video_web_rendition=True)) as app:
        record = await app.upload(clip.read_bytes(), "clip.mp4")
        job = await app.finished(record["job_id"], timeout=60)
        assert job["state"] == "succeeded", job
        assert "rendition-720" in job["result"]["derivatives"]
        previews = (await app.http.get(f"/api/v1/files/{record['id']}/previews")).json()
        rendition = next(p for p in previews if p["name"] == "rendition-720")
        assert rendition["content_type"] == "video/mp4"
        assert (rendition["width"], rendition["height"]) == (1280, 720)
        got = await app.http.get(rendition["url"])
        assert 'filename="clip.rendition-720.mp4"' in got.headers["content-disposition"]
        body = got.content
    out = tmp_path / "rendition.mp4"
    out.write_bytes(body)
    probed = await video.probe(
        out, ffprobe=find_tool("ffprobe", None, tmp_path), time_limit=30, memory_limit=2**30
    )
    info = video.summarize(probed)
    assert (info["video_codec"], info["audio_codec"]) == ("h264", "aac")
    assert info["height"] == 720
    assert body.index(b"moov") < body.index(b"mdat")  # faststart: playable while loading
    async with db.session() as session:
        rows = (await session.exec(select(Event).where(col(Event.type) == "job.progress"))).all()
        progress = [r.payload["progress"] for r in rows]
    assert progress == sorted(progress)
    assert any(0 < p < 100 for p in progress)


async def test_pdf_gets_page_count_text_and_first_page_preview(
    settings: Settings, db: Database
) -> None:
    async with running_app(fast(settings)) as app:
        record = await app.upload(media.pdf("Invoice number", pages=3), "invoice.pdf")
        job = await app.finished(record["job_id"])
        assert job["state"] == "succeeded", job
        file = await app.file(record["id"])
        assert file["media"]["pages"] == 3
        assert file["media"]["format"] == "pdf"
        previews = {
            p["name"]: p
            for p in (await app.http.get(f"/api/v1/files/{record['id']}/previews")).json()
        }
        assert set(previews) == {"preview-256", "preview-1024", "text"}
        assert previews["preview-1024"]["width"] == 1024
        assert previews["preview-1024"]["height"] == round(1024 * 200 / 300)
        got = await app.http.get(previews["text"]["url"])
        assert 'filename="invoice.text.txt"' in got.headers["content-disposition"]
        text = got.text
        assert "Invoice number 1" in text
        assert "Invoice number 3" in text
        assert text.count("\f") == 2


async def test_office_documents_are_skipped_clearly_without_libreoffice(
    settings: Settings,
) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as docx:
        docx.writestr("[Content_Types].xml", "<Types/>")
        docx.writestr("word/document.xml", "<w:document/>")
    tuned = fast(settings, office_converter="/nonexistent/soffice")
    async with running_app(tuned) as app:
        record = await app.upload(buffer.getvalue(), "letter.docx")
        assert record["content_type"].startswith("application/vnd.openxmlformats")
        job = await app.finished(record["job_id"])
        assert job["state"] == "succeeded"
        assert "LibreOffice is not installed" in job["result"]["skipped"]
        file = await app.file(record["id"])
        assert file["processing"]["status"] == "skipped"
        assert "LibreOffice" in file["processing"]["reason"]
        assert (await app.http.get(f"/api/v1/files/{record['id']}/previews")).json() == []
