"""The handler of a ``transform_file`` job: a transformation asked of a file after upload
(``POST /api/v1/files/{id}/transform``), or queued by ``media.ocr_on_upload``.

The one kind so far is ``ocr``: the text of an image, or of the scanned pages of a PDF,
recognized in sandbox children (``mcore.media.ocr``) and kept as a derived file
``ocr-text`` (``text/plain``) of the source blob with its recipe, as a PDF's own
``text`` is. It is listed with the file's previews and read from
``/api/v1/files/{id}/previews/ocr-text``. A file's status is not touched: it was ready
before and stays so, whatever the transformation's outcome.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcore.events import EventType, publish
from mcore.files import derivatives
from mcore.files.derivatives import INFO, Output
from mcore.files.models import File
from mcore.jobs import queue
from mcore.jobs.models import Job
from mcore.jobs.process import JobContext, source_path, work_dir
from mcore.jobs.queue import LeaseLost
from mcore.media import ocr
from mcore.media.errors import ProcessingError
from mcore.media.profiles import OCR, OCR_RECIPE, OCR_TEXT, TEXT_TYPE, ocr_kind

PAGES_PER_CHILD = 8  # PDF pages recognized by one sandbox child (the model loads once)


async def run_transform(ctx: JobContext, job: Job) -> dict[str, Any]:
    """Make the transformation a job asks for (or find it made) and record it."""
    kind = job.params.get("kind")
    if kind != OCR:
        raise ProcessingError(f"unknown transformation {kind!r}")
    async with ctx.db.session() as session:
        file = await session.get(File, job.file_id) if job.file_id else None
        if file is None or file.deleted_at is not None:
            raise ProcessingError("the file was deleted before its text could be recognized")
        existing = await derivatives.find(session, file.cid, OCR_RECIPE)
        session.expunge_all()
    source_kind = ocr_kind(file.content_type)
    if source_kind is None:
        raise ProcessingError(f"OCR reads images and PDFs; this file is {file.content_type}")
    if OCR_TEXT in existing:
        return await _finish(ctx, job, file, [], _info_of(existing))
    outputs: list[Output] = []
    try:
        async with work_dir(ctx.settings, job.id) as work:
            src = await source_path(ctx.store, file.cid, work)
            await ctx.progress(5)
            text, info = await _recognize(ctx, src, work, source_kind)
            text_path = work / "ocr.txt"
            text_path.write_text(text, encoding="utf-8")
            info_path = work / "ocr.info.json"
            info_path.write_text(json.dumps(info, sort_keys=True, separators=(",", ":")))
            for name, path, content_type in (
                (OCR_TEXT, text_path, TEXT_TYPE),
                (INFO, info_path, "application/json"),
            ):
                blob = await derivatives.stage_file(ctx.store, path)
                outputs.append(Output(name=name, blob=blob, content_type=content_type))
            return await _finish(ctx, job, file, outputs, info)
    finally:
        for output in outputs:
            await ctx.store.discard(output.blob)


def _info_of(existing: dict[str, derivatives.Derivative]) -> dict[str, Any]:
    text = existing[OCR_TEXT]
    return {"reused": True, "cid": text.cid, "size": text.size}


async def _recognize(
    ctx: JobContext, src: Path, work: Path, kind: str
) -> tuple[str, dict[str, Any]]:
    """The recognized text (pages apart by form feeds, as a PDF's ``text`` is) and the
    findings: pages read and skipped, lines, the model's mean confidence."""
    settings = ctx.settings
    args = {
        "out_dir": str(work),
        "max_pixels": settings.media.image_max_pixels,
        "max_pages": settings.media.ocr_max_pages,
        "threads": settings.media.ocr_threads,
    }

    async def run(items: list[dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = await ctx.sandbox.run(
            "ocr.recognize",
            {"items": items, **args},
            result_path=work / "result.json",
            memory_limit=settings.jobs.ocr_memory_limit,
            time_limit=settings.jobs.time_limit.total_seconds() * max(1, len(items)),
        )
        return result

    if kind == "image":
        results = (await run([{"src": str(src), "kind": "image"}]))["results"]
        pages = 1
    else:
        first = await run([{"src": str(src), "kind": "pdf", "page": 0}])
        pages, results = int(first["pages"]), list(first["results"])
        for start in range(1, pages, PAGES_PER_CHILD):
            await ctx.progress(5 + int(90 * start / pages))
            batch = range(start, min(pages, start + PAGES_PER_CHILD))
            more = await run([{"src": str(src), "kind": "pdf", "page": i} for i in batch])
            results.extend(more["results"])
    await ctx.progress(95)
    texts = ["\n".join(r["lines"]) for r in results]
    scores = [s for r in results for s in r["scores"]]
    text = "\f".join(texts)
    if len(text) > settings.media.document_max_text:
        text = text[: settings.media.document_max_text]
    info = {
        "engine": ocr.ENGINE,
        "model": ocr.MODEL_NAME,
        "pages": pages,
        "pages_recognized": sum(1 for r in results if not r["skipped"]),
        "pages_with_text_layer": sum(1 for r in results if r["skipped"]),
        "lines": sum(len(r["lines"]) for r in results),
        "chars": len(text),
        "mean_score": round(sum(scores) / len(scores), 4) if scores else None,
    }
    return text, info


async def _finish(
    ctx: JobContext, job: Job, file: File, outputs: list[Output], info: dict[str, Any]
) -> dict[str, Any]:
    """Record the derivatives, end the job and tell its owner, in one transaction."""
    async with ctx.db.session(write=True) as session:
        current = await queue.owned(session, job_id=job.id, worker_id=ctx.worker_id)
        if current is None:
            raise LeaseLost(job.id)
        rows = await derivatives.record(
            session, ctx.store, source_cid=file.cid, recipe=OCR_RECIPE, outputs=outputs
        )
        text = rows[OCR_TEXT]
        result: dict[str, Any] = {
            "kind": OCR,
            "derivatives": [OCR_TEXT],
            "cid": text.cid,
            "size": text.size,
            "url": f"/api/v1/files/{file.id}/previews/{OCR_TEXT}",
            "info": info,
        }
        queue.succeed(current, result=result)
        session.add(current)
        await session.flush()
        await publish(
            session,
            user_id=current.owner_id,
            type=EventType.job_progress,
            payload={
                "job_id": current.id,
                "file_id": file.id,
                "state": current.state,
                "progress": current.progress,
                "attempts": current.attempts,
                "result": result,
            },
        )
    return result
