"""OPTIONS answers with every method the path accepts, and only those."""

import re

import pytest
from litestar.routes import HTTPRoute

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


@pytest.mark.parametrize("backend", ["sqlite"])  # about routing, not the database
@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/artists", {"GET", "POST"}),  # generated: list and create
        ("/api/v1/artists/x", {"GET", "PATCH", "DELETE"}),
        ("/api/v1/still-images/x/versions", {"GET"}),
        ("/api/v1/files", {"GET", "POST"}),  # hand-written: upload and list
        ("/api/v1/files/x", {"GET", "PATCH", "DELETE"}),
        ("/api/v1/files/x/content", {"GET", "HEAD"}),
        ("/blobs/x", {"GET", "HEAD"}),
        ("/api/v1/auth/keys", {"GET", "POST"}),
        ("/api/v1/links", {"POST"}),
    ],
)
async def test_allow_names_what_the_path_accepts(anon_client, path: str, allowed: set) -> None:
    reply = await anon_client.options(path)
    assert reply.status_code == 204
    assert set(reply.headers["allow"].split(", ")) == allowed | {"OPTIONS"}


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_allow_agrees_with_what_every_route_answers(server_app, anon_client) -> None:
    """For every HTTP path of the app: a method listed is never answered 405, and a method
    not listed always is."""
    paths = {
        re.sub(r"\{[^}]+\}", "x", route.path_format)
        for route in server_app.app.routes
        if isinstance(route, HTTPRoute)
    }
    assert len(paths) > 30
    for path in sorted(paths):
        allow = (await anon_client.options(path)).headers["allow"].split(", ")
        for method in METHODS:
            status = (await anon_client.request(method, path)).status_code
            assert (status == 405) == (method not in allow), (path, method, status, allow)
