"""Every number the API takes has a documented range; out of range is 422 naming the field.

The table below lists each numeric input (query parameters and request-body fields); a
test checks it against the OpenAPI document, so a numeric input added later without a
range, or without a line here, fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import AuthedClient, MakeClient
from tests.recordkit import png

PROBLEM = "application/problem+json"
HUGE = 10**30
INT64_OVER = 2**63
TEN_YEARS = 10 * 365 * 86400


@dataclass(frozen=True)
class Numeric:
    method: str
    path: str  # {file} and {record} are filled with a real file's and record's ids
    where: str  # "query" or "body"
    name: str
    low: int
    high: int
    body: tuple[tuple[str, Any], ...] = ()  # the rest of a valid body
    query: tuple[tuple[str, str], ...] = ()  # the rest of a valid query
    role: str = "user"

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.where}:{self.name}"


NUMERIC = [
    Numeric("GET", "/api/v1/conversations", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/conversations/{record}/messages", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/files", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/jobs", "query", "limit", 1, 200, role="admin"),
    Numeric("GET", "/api/v1/admin/users", "query", "limit", 1, 200, role="admin"),
    Numeric("GET", "/api/v1/artists", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/artists/{record}/versions", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/image-files", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/image-files/{record}/versions", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/still-images", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/still-images/{record}/versions", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/image-releases", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/image-releases/{record}/versions", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/folders/{file}/children", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/shares", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/profiles", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/profiles/{record}/versions", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/profile-groups", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/profile-groups/{record}/versions", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/posts", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/posts/{record}/versions", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/pages", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/pages/{record}/versions", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/forums", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/forums/{record}/versions", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/branches", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/branches/{record}/versions", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/threads", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/threads/{record}/versions", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/feeds/profiles/{record}", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/feeds/following", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/feeds/following/{record}", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/feeds/groups/{record}", "query", "limit", 1, 200),
    Numeric("GET", "/api/v1/still-images", "query", "year", -10_000, 9_999),
    Numeric("GET", "/api/v1/files/{file}/image", "query", "w", 1, 65_535, query=(("h", "8"),)),
    Numeric("GET", "/api/v1/files/{file}/image", "query", "h", 1, 65_535, query=(("w", "8"),)),
    Numeric("GET", "/api/v1/files/{file}/image", "query", "q", 1, 100, query=(("w", "8"),)),
    Numeric("POST", "/api/v1/links", "body", "expires_in", 1, TEN_YEARS, (("file_id", "{file}"),)),
    Numeric(
        "POST",
        "/api/v1/auth/keys",
        "body",
        "expires_in",
        1,
        TEN_YEARS,
        (("name", "script"), ("scopes", ["files:read"])),
    ),
    Numeric(
        "POST", "/api/v1/still-images", "body", "year", -10_000, 9_999, (("title", {"full": "T"}),)
    ),
    Numeric("PATCH", "/api/v1/still-images/{record}", "body", "year", -10_000, 9_999),
]


def extremes(field: Numeric) -> list[Any]:
    """Values outside the field's range: its edges' neighbours, 0, -1, huge, past int64,
    and floats where an integer is expected."""
    values: list[Any] = [field.low - 1, field.high + 1, 0, -1, HUGE, INT64_OVER, -INT64_OVER - 1]
    out = [v for v in values if not field.low <= v <= field.high]
    # ("1e3" and 1e3 are integers written as floats: taken as 1000, like 1000.0)
    out += [1.5, 1e300] if field.where == "body" else ["1.5", "1e400", "nan", "12abc", ""]
    return out


def _numeric(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any] | None:
    """The schema itself when it takes a number (alone or or-null), with its bounds."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    types = [schema.get("type")] + [s.get("type") for s in schema.get("oneOf", [])]
    types += [s.get("type") for s in schema.get("anyOf", [])]
    flat = {t for item in types for t in (item if isinstance(item, list) else [item])}
    return schema if flat & {"integer", "number"} else None


def numeric_inputs(doc: dict[str, Any]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """``(method, path, where, name) -> schema`` for every numeric input of the document."""
    components = doc.get("components", {}).get("schemas", {})
    found: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                schema = _numeric(param.get("schema", {}), components)
                if schema is not None:
                    found[(method.upper(), path, param["in"], param["name"])] = schema
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            model = body["schema"]
            if "$ref" in model:
                model = components[model["$ref"].rsplit("/", 1)[-1]]
            for name, prop in model.get("properties", {}).items():
                schema = _numeric(prop, components)
                if schema is not None:
                    found[(method.upper(), path, "body", name)] = schema
    return found


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_every_numeric_input_has_a_documented_range_and_a_line_here(server_app) -> None:
    doc = server_app.app.openapi_schema.to_schema()
    documented = numeric_inputs(doc)
    tested = {}
    for field in NUMERIC:
        for key in documented:
            method, path, where, name = key
            pattern = field.path.replace("{file}", "{*}").replace("{record}", "{*}")
            template = "/".join("{*}" if p.startswith("{") else p for p in path.split("/"))
            if (method, template, where if where == "body" else "query", name) == (
                field.method,
                pattern,
                field.where,
                field.name,
            ):
                tested[key] = field
    missing = sorted(set(documented) - set(tested))
    assert not missing, f"numeric inputs with no line in NUMERIC: {missing}"
    for key, field in tested.items():
        schema = documented[key]
        assert (schema.get("minimum"), schema.get("maximum")) == (field.low, field.high), key


async def _ids(make_client: MakeClient, client: AuthedClient) -> dict[str, str]:
    upload = await client.post("/api/v1/files?filename=a.png", content=png())
    assert upload.status_code == 201, upload.text
    record = await client.post("/api/v1/still-images", json={"title": {"full": "T"}})
    assert record.status_code == 201, record.text
    return {"file": upload.json()[0]["id"], "record": record.json()["id"]}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    return value


CASES = [(field, value) for field in NUMERIC for value in extremes(field)]


@pytest.mark.parametrize("backend", ["sqlite"])  # validation happens before any query
async def test_numbers_out_of_range_are_422_naming_the_field(make_client: MakeClient) -> None:
    """One app, every numeric field, each of its extremes (one test: an app per case would
    take minutes)."""
    clients = {"user": await make_client("user"), "admin": await make_client("admin")}
    ids = await _ids(make_client, clients["user"])
    failures = []
    for field, value in CASES:
        http = clients[field.role]
        path = field.path.format(**ids)
        if field.where == "query":
            query = dict(field.query) | {field.name: str(value)}
            reply = await http.request(field.method, path, params=query)
        else:
            body = {k: _fill(v, ids) for k, v in field.body} | {field.name: value}
            content = json.dumps(body)  # 1e300 and 2**63 as JSON numbers, not strings
            reply = await http.request(
                field.method,
                path,
                content=content,
                headers={"content-type": "application/json"},
            )
        fields = []
        if reply.headers.get("content-type") == PROBLEM:
            fields = [e.get("field") for e in reply.json().get("errors") or []]
        if reply.status_code != 422 or field.name not in fields:
            failures.append(f"{field} = {value!r}: {reply.status_code} {reply.text[:200]}")
    assert not failures, "\n".join(failures)
