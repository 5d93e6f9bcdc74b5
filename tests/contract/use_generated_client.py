"""A user's script on a client that openapi-python-client generated from /schema/openapi.json.

Not a test module: tests/contract/test_generated_client.py copies it beside the generated
``mstack_api`` package, type-checks both with ``mypy --strict`` and then runs
:func:`exercise` against a live server. Everything here goes through the generated
functions and models only, as a user's code would.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from io import BytesIO

from mstack_api import AuthenticatedClient
from mstack_api.api.artists import artists_create, artists_list, artists_update
from mstack_api.api.files import blobs_get, files_content, files_upload
from mstack_api.models import (
    ArtistCreate,
    ArtistRead,
    ArtistUpdate,
    FileRead,
    FilesUploadFilesBody,
    ProblemDetails,
    TitleData,
)
from mstack_api.types import File


@dataclass
class Uploaded:
    """What the server said it stored, and what the client then downloaded."""

    cid: str
    sent: bytes
    content: bytes  # from /api/v1/files/{id}/content
    blob: bytes  # from /blobs/{cid}
    etag: str


def upload(client: AuthenticatedClient) -> list[FileRead]:
    """One raw-body upload and one multipart upload of two files."""
    raw = files_upload.sync_detailed(
        client=client,
        body=File(payload=BytesIO(b"raw body bytes\n"), mime_type="application/octet-stream"),
        filename="raw.txt",
    )
    assert raw.status_code == HTTPStatus.CREATED, raw.content
    assert isinstance(raw.parsed, list)
    form = files_upload.sync_detailed(
        client=client,
        body=FilesUploadFilesBody(
            file=[
                File(payload=BytesIO(b"first part\n"), file_name="one.txt", mime_type="text/plain"),
                File(
                    payload=BytesIO(b"second part\n"), file_name="two.txt", mime_type="text/plain"
                ),
            ]
        ),
    )
    assert form.status_code == HTTPStatus.CREATED, form.content
    assert isinstance(form.parsed, list)
    files = [*raw.parsed, *form.parsed]
    assert [f.filename for f in files] == ["raw.txt", "one.txt", "two.txt"]
    return files


def download(client: AuthenticatedClient, made: FileRead, sent: bytes) -> Uploaded:
    content = files_content.sync_detailed(made.id, client=client)
    assert content.status_code == HTTPStatus.OK
    assert isinstance(content.parsed, File)
    blob = blobs_get.sync_detailed(made.cid, client=client)
    assert blob.status_code == HTTPStatus.OK
    assert isinstance(blob.parsed, File)
    return Uploaded(
        cid=made.cid,
        sent=sent,
        content=content.parsed.payload.read(),
        blob=blob.parsed.payload.read(),
        etag=content.headers["etag"],
    )


def create_and_update(client: AuthenticatedClient) -> tuple[ArtistRead, ProblemDetails]:
    """Create an artist, update it with the ETag it came with, and try again with that now
    stale ETag: the 412 arrives as the documented ``ProblemDetails``."""
    created = artists_create.sync_detailed(
        client=client, body=ArtistCreate(name=TitleData(full="Generated Artist"), bio="One.")
    )
    assert created.status_code == HTTPStatus.CREATED, created.content
    assert isinstance(created.parsed, ArtistRead)
    etag = created.headers["etag"]
    assert etag == f'"{created.parsed.cid}"'

    updated = artists_update.sync_detailed(
        created.parsed.id, client=client, body=ArtistUpdate(bio="Two."), if_match=etag
    )
    assert updated.status_code == HTTPStatus.OK, updated.content
    assert isinstance(updated.parsed, ArtistRead)
    assert updated.parsed.n == 2
    assert updated.parsed.bio == "Two."
    assert updated.headers["etag"] == f'"{updated.parsed.cid}"'

    stale = artists_update.sync_detailed(
        created.parsed.id, client=client, body=ArtistUpdate(bio="Three."), if_match=etag
    )
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED, stale.content
    assert isinstance(stale.parsed, ProblemDetails)
    return updated.parsed, stale.parsed


def list_all(client: AuthenticatedClient, *, limit: int) -> list[list[str]]:
    """Every artist the caller may read, page by page (``cursor`` from each ``next``)."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = artists_list.sync_detailed(client=client, limit=limit, cursor=cursor, mine=True)
        assert page.status_code == HTTPStatus.OK, page.content
        assert not isinstance(page.parsed, ProblemDetails)
        assert page.parsed is not None
        pages.append([a.id for a in page.parsed.items])
        if page.parsed.next_ is None:
            return pages
        cursor = page.parsed.next_


@dataclass
class Outcome:
    uploaded: list[Uploaded]
    artist: ArtistRead
    refused: ProblemDetails
    more_artists: list[str]
    pages: list[list[str]]


def exercise(base_url: str, token: str) -> Outcome:
    with AuthenticatedClient(base_url=base_url, token=token) as client:
        files = upload(client)
        sent = [b"raw body bytes\n", b"first part\n", b"second part\n"]
        uploaded = [download(client, made, data) for made, data in zip(files, sent, strict=True)]
        artist, refused = create_and_update(client)
        more = []
        for name in ("Second", "Third", "Fourth"):
            made = artists_create.sync_detailed(
                client=client, body=ArtistCreate(name=TitleData(full=name))
            )
            assert isinstance(made.parsed, ArtistRead), made.content
            more.append(made.parsed.id)
        pages = list_all(client, limit=2)
    return Outcome(uploaded, artist, refused, more, pages)
