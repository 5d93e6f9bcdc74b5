"""Reading an upload body straight into the blob store: raw bytes or multipart, one copy.

Neither form is buffered whole: each chunk that arrives is handed to the file's stager,
which hashes and writes it on another thread while the next chunk is received.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar import Request
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from mcore.cid import RAW, parse_cid
from mcore.errors import BadRequest, ClientGone, Invalid
from mcore.files.staging import StagedUpload, Stager, check_size, discard_uploads
from mcore.settings import Settings
from mcore.storage import BlobStore

MAX_FIELD_SIZE = 64 * 1024  # non-file form fields are read and dropped
MAX_PARTS = 1000


async def body_chunks(request: Request) -> AsyncIterator[bytes]:
    """The request body as it arrives; ``ClientGone`` if the client disconnects first."""
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        body: bytes = message.get("body", b"")  # type: ignore[assignment]
        if body:
            yield body
        if not message.get("more_body", False):
            return


async def stage_raw(
    request: Request,
    store: BlobStore,
    settings: Settings,
    *,
    filename: str | None,
    expected_cid: str | None,
) -> list[StagedUpload]:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit():
        check_size(int(length), settings)
    declared = request.headers.get("content-type")
    stager = Stager(
        store, settings, filename=filename, declared_type=declared, expected_cid=expected_cid
    )
    try:
        async for chunk in body_chunks(request):
            await stager.feed(chunk)
        return [await stager.finish()]
    except BaseException:
        await stager.abort()
        raise


async def stage_multipart(
    request: Request,
    store: BlobStore,
    settings: Settings,
    *,
    expected_cid: str | None,
) -> list[StagedUpload]:
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get("boundary")
    if not boundary:
        raise BadRequest("a multipart/form-data body needs a boundary in its Content-Type")
    staged: list[StagedUpload] = []
    stager: Stager | None = None
    field_bytes = 0
    try:
        parser = PushMultipartParser(boundary, max_segment_count=MAX_PARTS, strict=True)
        segment: MultipartSegment | None = None
        async for chunk in body_chunks(request):
            for event in parser.parse(chunk):
                if isinstance(event, MultipartSegment):
                    segment = event
                    field_bytes = 0
                    if event.name == "file" and event.filename is not None:
                        if expected_cid is not None and staged:
                            raise Invalid(
                                "?cid= names the one file expected; this form has several",
                                field="cid",
                            )
                        stager = Stager(
                            store,
                            settings,
                            filename=event.filename,
                            declared_type=event.content_type,
                            expected_cid=expected_cid,
                        )
                elif event is None:
                    if stager is not None:
                        staged.append(await stager.finish())
                        stager = None
                    segment = None
                elif stager is not None:
                    await stager.feed(event)
                elif segment is not None:
                    field_bytes += len(event)
                    if field_bytes > MAX_FIELD_SIZE:
                        raise BadRequest(f"form field {segment.name!r} is too large")
        parser.close()
    except MultipartError as exc:
        if stager is not None:
            await stager.abort()
        await discard_uploads(store, staged)
        raise BadRequest(f"the multipart body is malformed or incomplete: {exc}") from None
    except BaseException:
        if stager is not None:
            await stager.abort()
        await discard_uploads(store, staged)
        raise
    if not staged:
        raise Invalid("the form has no file: send each file in a field named 'file'", field="file")
    return staged


async def stage_request(
    request: Request,
    store: BlobStore,
    settings: Settings,
    *,
    filename: str | None,
    expected_cid: str | None,
) -> list[StagedUpload]:
    """Stage every file of an upload request; on any error nothing is left behind."""
    if expected_cid is not None:
        parse_cid(expected_cid, codec=RAW)
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        return await stage_multipart(request, store, settings, expected_cid=expected_cid)
    return await stage_raw(request, store, settings, filename=filename, expected_cid=expected_cid)
