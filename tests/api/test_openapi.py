"""/schema/openapi.json tells the truth: readable ids, descriptions, every error as problem
details with one schema, the upload's bodies, byte routes, ETags, sort enums, examples; and
what the live server answers fits what the document says."""

from __future__ import annotations

import re
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate

from api.openapi import PROBLEM_SCHEMA, document
from tests.conftest import PASSWORD, LiveServer

PROBLEM = "application/problem+json"
PROBLEM_REF = f"#/components/schemas/{PROBLEM_SCHEMA}"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# the statuses of Litestar's default response, which this server never sends
LITESTAR_DEFAULT = {"status_code", "detail", "extra"}

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # the document needs no database


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def op(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][path][method]
    return found


@pytest.fixture
async def doc(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    served: dict[str, Any] = r.json()
    return served


async def test_the_served_document_is_valid_openapi(doc: dict[str, Any], server_app: Any) -> None:
    validate(doc)
    assert doc == document(server_app.app)
    assert (await httpx_get_root(server_app)) == doc


async def httpx_get_root(app: Any) -> Any:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://mstack.test"
    ) as http:
        return (await http.get("/schema")).json()


async def test_every_route_declares_its_documentation(server_app: Any) -> None:
    """A new route without ``opt=doc(...)`` would get a made-up id and only the errors its
    signature implies: every route in the document says what it is."""
    from litestar.routes import HTTPRoute

    from api.openapi import OPT_KEY, Doc

    undeclared = [
        f"{method} {route.path}"
        for route in server_app.app.routes
        if isinstance(route, HTTPRoute)
        for method, (handler, _) in route.route_handler_map.items()
        if handler.resolve_include_in_schema() and not isinstance(handler.opt.get(OPT_KEY), Doc)
    ]
    assert not undeclared


async def test_operation_ids_are_readable_and_unique(doc: dict[str, Any]) -> None:
    ids = [o["operationId"] for _, _, o in operations(doc)]
    assert len(ids) > 70
    assert len(set(ids)) == len(ids)
    bad = [i for i in ids if not re.fullmatch(r"[a-z][a-z0-9_]*", i)]
    assert not bad
    for expected in ("artists_update", "files_upload", "blobs_get", "blobs_head", "objects_get"):
        assert expected in ids


async def test_every_operation_has_a_description(doc: dict[str, Any]) -> None:
    missing = [
        f"{m} {p}"
        for m, p, o in operations(doc)
        if not o.get("description") or o["description"] == o.get("summary")
    ]
    assert not missing


async def test_every_error_is_problem_details(doc: dict[str, Any]) -> None:
    assert set(doc["components"]["schemas"][PROBLEM_SCHEMA]["properties"]) >= {
        "type",
        "title",
        "status",
        "detail",
        "errors",
    }
    for method, path, o in operations(doc):
        for status, response in o["responses"].items():
            content = response.get("content", {})
            for media in content.values():
                props = set(media.get("schema", {}).get("properties", {}))
                assert not props >= LITESTAR_DEFAULT, (method, path, status)
            if status[0] in "45":
                assert list(content) == [PROBLEM], (method, path, status)
                assert content[PROBLEM]["schema"] == {"$ref": PROBLEM_REF}, (method, path, status)
        assert any(s[0] == "2" for s in o["responses"]), (method, path)


async def test_errors_follow_from_the_routes(doc: dict[str, Any]) -> None:
    statuses = {(m, p): set(o["responses"]) for m, p, o in operations(doc)}
    assert {"401", "403", "404", "410", "412", "422"} <= statuses[
        ("patch", "/api/v1/artists/{artist_id}")
    ]
    assert {"400", "413", "415", "422", "507"} <= statuses[("post", "/api/v1/files")]
    assert {"409", "429"} <= statuses[("post", "/api/v1/auth/register")]
    assert "401" not in statuses[("post", "/api/v1/auth/register")]  # it takes no caller
    assert "404" not in statuses[("get", "/api/v1/files")]
    # /health answers 200, or 503 like every route past `max_concurrency`
    assert set(statuses[("get", "/health")]) == {"200", "503"}
    assert all("503" in codes for codes in statuses.values())


async def test_upload_documents_raw_and_multipart_bodies(doc: dict[str, Any]) -> None:
    body = op(doc, "post", "/api/v1/files")["requestBody"]["content"]
    assert body["application/octet-stream"]["schema"] == {"type": "string", "format": "binary"}
    form = body["multipart/form-data"]["schema"]
    assert form["properties"]["file"]["type"] == "array"
    assert form["properties"]["file"]["items"] == {"type": "string", "format": "binary"}


async def test_an_optional_body_is_not_required(doc: dict[str, Any]) -> None:
    """Follow and unfollow take no body to act as your only profile; a create needs one."""
    for verb in ("follow", "unfollow"):
        body = op(doc, "post", f"/api/v1/profiles/{{profile_id}}/{verb}")["requestBody"]
        assert body["required"] is False
    assert op(doc, "post", "/api/v1/artists")["requestBody"]["required"] is True


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/blobs/{cid}", "application/octet-stream"),
        ("/api/v1/files/{file_id}/content", "*/*"),
        ("/api/v1/files/{file_id}/previews/{name}", "image/webp"),
        ("/api/v1/files/{file_id}/image", "image/avif"),
    ],
)
async def test_byte_routes_declare_binary_ranges_and_validators(
    doc: dict[str, Any], path: str, media: str
) -> None:
    get = op(doc, "get", path)
    assert get["responses"]["200"]["content"][media]["schema"]["format"] == "binary"
    assert get["responses"]["206"]["content"][media]["schema"]["format"] == "binary"
    assert {"200", "206", "304", "416"} <= set(get["responses"])
    assert "ETag" in get["responses"]["200"]["headers"]
    assert "Content-Range" in get["responses"]["206"]["headers"]
    headers = {p["name"] for p in get["parameters"] if p["in"] == "header"}
    assert {"Range", "If-None-Match", "If-Range"} <= headers


async def test_zip_and_objects_declare_their_media_types(doc: dict[str, Any]) -> None:
    zip_ = op(doc, "post", "/api/v1/files/zip")["responses"]["200"]["content"]
    assert zip_ == {"application/zip": {"schema": {"type": "string", "format": "binary"}}}
    objects = op(doc, "get", "/api/v1/objects/{cid}")["responses"]["200"]
    assert objects["content"]["application/vnd.ipld.dag-cbor"]["schema"]["format"] == "binary"
    assert objects["content"]["application/json"]["schema"]["type"] == "object"
    assert "ETag" in objects["headers"]


async def test_record_reads_declare_etag_and_writes_if_match(doc: dict[str, Any]) -> None:
    item = "/api/v1/still-images/{still_image_id}"
    for method, path in (("get", item), ("patch", item), ("post", "/api/v1/still-images")):
        success = next(r for s, r in op(doc, method, path)["responses"].items() if s[0] == "2")
        assert "ETag" in success["headers"], (method, path)
    for method, path in (("patch", item), ("delete", item), ("post", f"{item}/revert")):
        headers = {p["name"]: p for p in op(doc, method, path)["parameters"] if p["in"] == "header"}
        assert headers["If-Match"]["schema"]["type"] == "string", (method, path)


async def test_sort_is_a_named_enum(doc: dict[str, Any]) -> None:
    (sort,) = [p for p in op(doc, "get", "/api/v1/artists")["parameters"] if p["name"] == "sort"]
    assert sort["schema"] == {"$ref": "#/components/schemas/ArtistSort"}
    enum = doc["components"]["schemas"]["ArtistSort"]
    assert dict(zip(enum["enum"], enum["x-enum-varnames"], strict=True))["-name_full"] == (
        "NAME_FULL_DESC"
    )


async def test_record_bodies_carry_the_specs_examples(doc: dict[str, Any]) -> None:
    from mart.specs import ARTIST

    create = op(doc, "post", "/api/v1/artists")["requestBody"]["content"]["application/json"]
    values = [e["value"] for e in create["examples"].values()]
    assert values == [dict(e) for e in ARTIST.examples]
    for path in ("/api/v1/image-files", "/api/v1/still-images", "/api/v1/image-releases"):
        body = op(doc, "post", path)["requestBody"]["content"]["application/json"]
        assert body["examples"], path


async def test_info_links_the_websocket_protocol(doc: dict[str, Any]) -> None:
    assert "docs/api.md#websocket" in doc["info"]["description"]


# -- what the live server answers ------------------------------------------------------------

BAD_REQUESTS: list[tuple[str, str, str, dict[str, Any]]] = [
    # (method, path as requested, path template, httpx keywords)
    ("get", "/api/v1/files?limit=0", "/api/v1/files", {}),
    ("get", "/api/v1/files/nope", "/api/v1/files/{file_id}", {}),
    ("get", "/blobs/not-a-cid", "/blobs/{cid}", {}),
    ("get", "/api/v1/artists?sort=sideways", "/api/v1/artists", {}),
    ("post", "/api/v1/artists", "/api/v1/artists", {"content": b"{not json"}),
    ("post", "/api/v1/artists", "/api/v1/artists", {"json": {"name": 3}}),
    ("patch", "/api/v1/artists/nope", "/api/v1/artists/{artist_id}", {"json": {"bio": "b"}}),
    ("get", "/api/v1/objects/nope", "/api/v1/objects/{cid}", {}),
    ("post", "/api/v1/files/zip", "/api/v1/files/zip", {"json": {"ids": []}}),
    ("get", "/api/v1/jobs", "/api/v1/jobs", {}),  # an admin route, for a user
    ("get", "/api/v1/admin/users", "/api/v1/admin/users", {}),
    ("post", "/api/v1/auth/login", "/api/v1/auth/login", {"json": {"username": "x"}}),
    (
        "post",
        "/api/v1/files?filename=a.txt&cid=bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu",
        "/api/v1/files",
        {"content": b"other bytes"},
    ),
]


def test_live_errors_are_documented_and_fit_problem_details(live_server: LiveServer) -> None:
    doc = httpx.get(f"{live_server.url}/schema/openapi.json").json()
    schema = {**doc["components"]["schemas"][PROBLEM_SCHEMA], "components": doc["components"]}
    seen = set()
    with httpx.Client(base_url=live_server.url, headers=live_server.headers) as http:
        for method, url, template, kwargs in BAD_REQUESTS:
            r = http.request(method.upper(), url, **kwargs)
            documented = op(doc, method, template)["responses"]
            assert str(r.status_code) in documented, (method, url, r.status_code, r.text)
            assert r.status_code >= 400, (method, url)
            assert r.headers["content-type"] == PROBLEM, (method, url)
            jsonschema.validate(r.json(), schema)
            assert r.json()["status"] == r.status_code
            seen.add(r.status_code)
        r = httpx.get(
            f"{live_server.url}/api/v1/files", headers={"Authorization": "Bearer not-a-token"}
        )
        assert r.status_code == 401
        assert "401" in op(doc, "get", "/api/v1/files")["responses"]
        jsonschema.validate(r.json(), schema)
    assert {400, 403, 404, 422} <= seen


def test_the_problem_schema_rejects_litestars_default_shape(live_server: LiveServer) -> None:
    doc = httpx.get(f"{live_server.url}/schema/openapi.json").json()
    schema = doc["components"]["schemas"][PROBLEM_SCHEMA]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"status_code": 400, "detail": "Bad Request", "extra": {}}, schema)


async def test_security_says_who_may_call(
    doc: dict[str, Any], anon_client: httpx.AsyncClient
) -> None:
    """Every GET: a guest gets past the credentials check where the document says guests
    may call, and is refused where it says a bearer token is needed."""
    checked = 0
    for method, path, o in operations(doc):
        if method != "get" or path.startswith("/schema"):
            continue
        url = re.sub(r"\{[^}]+\}", "nope", path)
        r = await anon_client.get(url)
        security = o["security"]
        if security == []:
            assert r.status_code == 200, (path, r.status_code)
        elif {} in security:
            assert r.status_code not in (401, 403), (path, r.status_code, r.text)
        else:
            assert security == [{"bearer": []}], path
            # a job a guest asks for by id is one it may not see: 404 before any 401
            allowed = (401, 403, 404) if "{" in path else (401, 403)
            assert r.status_code in allowed, (path, r.status_code, r.text)
        assert str(r.status_code) in o["responses"], (path, r.status_code, r.text)
        checked += 1
    assert checked > 20


def media_examples(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    """(where, schema, value) of every example of a request or response body."""
    found = []
    for method, path, o in operations(doc):
        bodies = [("request", o.get("requestBody", {}))]
        bodies += [(status, r) for status, r in o["responses"].items()]
        for where, body in bodies:
            for media_type, media in body.get("content", {}).items():
                for name, example in media.get("examples", {}).items():
                    label = f"{method} {path} {where} {media_type} {name}"
                    found.append((label, media["schema"], example["value"]))
    return found


async def test_every_generated_route_has_examples_that_fit_its_schemas(
    doc: dict[str, Any],
) -> None:
    examples = media_examples(doc)
    for where, schema, value in examples:
        validator = jsonschema.Draft202012Validator({**schema, "components": doc["components"]})
        errors = [e.message for e in validator.iter_errors(value)]
        assert not errors, (where, errors)
    for model in ("artists", "image-files", "still-images", "image-releases"):
        for method, path, o in operations(doc):
            if not path.startswith(f"/api/v1/{model}"):
                continue
            in_bodies = any(where.startswith(f"{method} {path} ") for where, _, _ in examples)
            in_params = any("example" in p for p in o.get("parameters", []))
            assert in_bodies or in_params, (method, path)
    assert len(examples) > 30


def test_live_conflicts_and_preconditions_are_documented(live_server: LiveServer) -> None:
    """409, 410, 412, 403 and 404 from real state, each documented where it came from."""
    doc = httpx.get(f"{live_server.url}/schema/openapi.json").json()
    schema = {**doc["components"]["schemas"][PROBLEM_SCHEMA], "components": doc["components"]}
    artists = "/api/v1/artists"
    item = "/api/v1/artists/{artist_id}"
    with httpx.Client(base_url=live_server.url, headers=live_server.headers) as http:
        made = http.post(artists, json={"name": {"full": "Truth"}})
        assert made.status_code == 201
        url = f"{artists}/{made.json()['id']}"
        answers = [
            ("patch", item, http.patch(url, json={"bio": "b"}, headers={"If-Match": '"bafy"'})),
            (
                "post",
                "/api/v1/auth/keys",
                http.post("/api/v1/auth/keys", json={"name": "k", "scopes": ["admin"]}),
            ),
            ("post", "/api/v1/links", http.post("/api/v1/links", json={"file_id": "nope"})),
            ("post", "/api/v1/jobs/{job_id}/retry", http.post("/api/v1/jobs/nope/retry")),
            ("post", "/api/v1/files/{file_id}/restore", http.post("/api/v1/files/x/restore")),
            (
                "delete",
                "/api/v1/auth/sessions/{session_id}",
                http.delete("/api/v1/auth/sessions/nope"),
            ),
        ]
        assert http.delete(url).status_code == 200
        answers.append(("get", item, http.get(url)))
        answers.append(("patch", item, http.patch(url, json={"bio": "c"})))
        again = {"email": "x@example.org", "username": "truth-twice", "password": PASSWORD}
        assert httpx.post(f"{live_server.url}/api/v1/auth/register", json=again).status_code == 201
        answers.append(
            ("post", "/api/v1/auth/register", http.post("/api/v1/auth/register", json=again))
        )
    statuses = set()
    for method, template, r in answers:
        documented = op(doc, method, template)["responses"]
        assert str(r.status_code) in documented, (method, template, r.status_code, r.text)
        assert r.headers["content-type"] == PROBLEM, (method, template)
        jsonschema.validate(r.json(), schema)
        statuses.add(r.status_code)
    assert {403, 404, 409, 410, 412} <= statuses


async def test_every_parameter_is_described(doc: dict[str, Any]) -> None:
    missing = [
        f"{m} {p} {param['name']}"
        for m, p, o in operations(doc)
        for param in o.get("parameters", [])
        if not param.get("description")
    ]
    assert not missing
