"""The OpenAPI document made to tell the truth, in one place.

Litestar writes a first draft from the handlers' signatures; :func:`refine` finishes it
from a small declaration each route carries in its ``opt`` (:func:`doc`):

- every error a route can answer is documented as ``application/problem+json`` with the
  one shared ``ProblemDetails`` schema (what ``api.errors.problem`` sends), and Litestar's
  default ``400 {status_code, detail, extra}``, which this server never sends, is gone.
  Some statuses follow from the route itself: 401 from taking the caller (a bad bearer
  token), 403 from the admin guard, 404 from a path parameter, 422 from query parameters or
  a body (validation), 400/408/413 from a body; the rest are declared;
- readable operation ids (``artists_update``, ``blobs_get``; a HEAD is ``..._head``);
- byte routes: their media types with binary schemas, ``Range``/``If-None-Match``/
  ``If-Range``, and 206/304/416; ``ETag`` on record reads;
- the upload's two request bodies; sort parameters as named enums; examples.

The document is served by :class:`DocumentJson` at ``/schema/openapi.json`` and
``/schema``; :func:`document` gives it to code (tests, tools).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from api.callers import admin_guard
from api.errors import PROBLEM

OPT_KEY = "openapi"
PROBLEM_SCHEMA = "ProblemDetails"
PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}
BINARY = {"type": "string", "format": "binary"}
DAG_CBOR = "application/vnd.ipld.dag-cbor"

# What each status means on this server, for the responses' descriptions.
MEANINGS = {
    400: "The request is malformed (a body that is not JSON, a broken multipart form)",
    401: "The access token or API key is missing where needed, or not valid",
    403: "The caller may not do this",
    404: "There is nothing here that the caller may see",
    406: "The server cannot give this resource in a media type the request accepts",
    408: "The request body stalled; nothing of it was kept",
    409: "The request conflicts with the current state",
    410: "It was here but is gone",
    412: "A precondition (`If-Match`) failed: the record has moved on",
    413: "The body is too large",
    415: "The content's media type is not accepted",
    416: "The range cannot be satisfied; `Content-Range` gives the size",
    422: "A value in the request is not valid; `errors` names the fields",
    429: "Too many requests; `Retry-After` says when to try again",
    460: "The body does not match its `Upload-Checksum` (tus); it was not kept",
    503: "The server is too busy right now (`max_concurrency`), or a store it needs is not"
    " answering; `Retry-After` says when to try again",
    507: "The server has no room left to store this; nothing was kept",
}

PROBLEM_DETAILS: dict[str, Any] = {
    "type": "object",
    "title": "ProblemDetails",
    "description": "An error, as RFC 9457 problem details (`application/problem+json`).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": "A URI naming the kind of problem; `about:blank` for plain HTTP ones",
            "examples": ["about:blank"],
        },
        "title": {"type": "string", "description": "The status, in words"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, for a person to read"},
        "errors": {
            "type": "array",
            "description": "The fields that were not valid, when there were any",
            "items": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "field": {
                        "type": ["string", "null"],
                        "description": "The field, parameter or header",
                    },
                    "message": {"type": ["string", "null"]},
                },
            },
        },
    },
    "additionalProperties": True,
    "examples": [
        {
            "type": "about:blank",
            "title": "Invalid input",
            "status": 422,
            "detail": "limit: Input should be less than or equal to 200",
            "errors": [{"field": "limit", "message": "Input should be less than or equal to 200"}],
        }
    ],
}


@dataclass(frozen=True)
class Bytes:
    """A route that answers bytes: these media types, ranges and validators."""

    media_types: tuple[str, ...] = ("application/octet-stream", "*/*")
    ranges: bool = True  # Range, If-Range, 206 and 416
    validators: bool = True  # If-None-Match and 304


@dataclass(frozen=True)
class Doc:
    """What :func:`refine` needs to know about one route beyond its signature."""

    op: str
    errors: frozenset[int] = frozenset()
    bytes: Bytes | None = None
    # the success response carries the ETag: a record's version CID, or what the str says
    etag: bool | str = False
    conditional: bool = False  # answers If-None-Match with 304 (a non-byte route)
    upload: bool = False  # the raw and multipart request bodies of POST /api/v1/files
    request_examples: tuple[Mapping[str, Any], ...] = ()
    success_media_types: Mapping[str, Any] = field(default_factory=dict)
    sort_enum: str | None = None  # the component name of the `sort` parameter's values
    guests: bool = False  # a caller without credentials may use it too (public content)
    response_example: Any = None  # the success response's body, as JSON
    param_examples: Mapping[str, Any] = field(default_factory=dict)


def doc(
    op: str,
    *errors: int,
    bytes: Bytes | None = None,
    etag: bool | str = False,
    conditional: bool = False,
    upload: bool = False,
    request_examples: Iterable[Mapping[str, Any]] = (),
    success_media_types: Mapping[str, Any] | None = None,
    sort_enum: str | None = None,
    guests: bool = False,
    response_example: Any = None,
    param_examples: Mapping[str, Any] | None = None,
) -> dict[str, Doc]:
    """A route's ``opt``: its operation id and the errors it can answer besides those that
    follow from its signature (see the module's description)."""
    return {
        OPT_KEY: Doc(
            op=op,
            errors=frozenset(errors),
            bytes=bytes,
            etag=etag,
            conditional=conditional,
            upload=upload,
            request_examples=tuple(to_jsonable_python(e) for e in request_examples),
            success_media_types=dict(success_media_types or {}),
            sort_enum=sort_enum,
            guests=guests,
            response_example=to_jsonable_python(response_example),
            param_examples=dict(param_examples or {}),
        )
    }


# What the examples of record reads show besides a spec's example content.
EXAMPLE_VERSION = "bafyr4ihpzogbh7z3ecnd2d5wxzm2mtbduapfdiuwcucbcaqz2pyxk3rm6i"
EXAMPLE_CONTENT = "bafyr4igq2dqkyc6vlclzygovu4x3dvetbdcr2u2f3c5hdrr3g7jmjnd6wq"
EXAMPLE_RECORD = "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"
EXAMPLE_USER = "01JH5Y3Q9X4V8K2M6N7P0R1S2T"
EXAMPLE_AT = "2026-01-15T08:00:00Z"
VERSION_EXAMPLE = {
    "cid": EXAMPLE_VERSION,
    "content_cid": EXAMPLE_CONTENT,
    "n": 1,
    "by": EXAMPLE_USER,
    "at": EXAMPLE_AT,
    "deleted": False,
}
VERSIONS_EXAMPLE = {"items": [VERSION_EXAMPLE], "next": None}
REVERT_EXAMPLE = {"to": EXAMPLE_VERSION}


def read_example(model: type[BaseModel], examples: Sequence[Mapping[str, Any]]) -> Any:
    """A record read with the first of a spec's examples as its content (checked by the
    read model itself), or None when the spec gives none."""
    if not examples:
        return None
    meta = {
        "id": EXAMPLE_RECORD,
        "cid": EXAMPLE_VERSION,
        "content_cid": EXAMPLE_CONTENT,
        "n": 1,
        "owner_id": EXAMPLE_USER,
        "visibility": "private",
        "hidden": False,
        "created_at": EXAMPLE_AT,
        "updated_at": EXAMPLE_AT,
    }
    return model.model_validate({**examples[0], **meta}).model_dump(mode="json")


def page_example(read: Any) -> Any:
    """A one-item page of a read example (None without one)."""
    return None if read is None else {"items": [read], "next": None}


def _problem_response(status: int) -> dict[str, Any]:
    description = MEANINGS.get(status) or HTTPStatus(status).phrase
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM: {"schema": PROBLEM_REF}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
        }
    elif status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"description": "The scheme to use", "schema": {"type": "string"}}
        }
    elif status == 416:
        response["headers"] = {
            "Content-Range": {"description": "`bytes */SIZE`", "schema": {"type": "string"}}
        }
    return response


def _header_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


RANGE = _header_param("Range", "One byte range, `bytes=START-END` (or `bytes=-SUFFIX`)")
IF_RANGE = _header_param("If-Range", "The ETag: the range only while the bytes are still these")
IF_NONE_MATCH = _header_param("If-None-Match", "The ETag you hold: 304 if it still matches")
ETAG_HEADER = {
    "description": 'The strong ETag: the CID, quoted ("bafk..."); send it as `If-Match`',
    "schema": {"type": "string"},
}
BYTE_HEADERS = {
    "ETag": ETAG_HEADER,
    "Accept-Ranges": {"schema": {"type": "string", "enum": ["bytes"]}},
    "Cache-Control": {"schema": {"type": "string"}},
    "Content-Disposition": {"schema": {"type": "string"}},
}


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _routes(app: Litestar) -> Iterable[tuple[str, str, Any]]:
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method, (handler, _) in route.route_handler_map.items():
                yield route.path_format or "/", method.lower(), handler


def _declared(handler: Any) -> Doc | None:
    found = handler.opt.get(OPT_KEY)
    return found if isinstance(found, Doc) else None


def _takes_caller(handler: Any) -> bool:
    guarded = admin_guard in handler.resolve_guards()
    return guarded or "actor" in handler.parsed_fn_signature.parameters


def _security(handler: Any, spec: Doc | None) -> list[dict[str, list[str]]]:
    """None needed (the route never looks at credentials), optional (guests may use it), or
    the document's default, a bearer token."""
    if not _takes_caller(handler):
        return []
    if spec is not None and spec.guests:
        return [{"bearer": []}, {}]
    return [{"bearer": []}]


def _automatic_errors(handler: Any, operation: Mapping[str, Any], path: str) -> set[int]:
    statuses: set[int] = set()
    if _takes_caller(handler):
        statuses.update({401, 403})  # bad credentials; a role or an API key's scopes
    if "{" in path:
        statuses.add(404)
    params = operation.get("parameters", [])
    if any(p.get("in") == "query" for p in params) or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses.update({400, 408, 413})
    return statuses


def _refine_sort(operation: dict[str, Any], schemas: dict[str, Any], name: str) -> None:
    for param in operation.get("parameters", []):
        schema = param.get("schema", {})
        if param.get("name") != "sort" or "enum" not in schema:
            continue
        values = [v for v in schema["enum"] if v is not None]
        schemas[name] = {
            "type": "string",
            "title": name,
            "description": "An order: a field, ascending; with a leading `-`, descending",
            "enum": values,
            "x-enum-varnames": [
                _snake(v).upper() + ("_DESC" if v.startswith("-") else "") for v in values
            ],
        }
        param["schema"] = {"$ref": f"#/components/schemas/{name}"}
        param.setdefault("description", "The order of the items")


# Descriptions of the query parameters many routes share, where a route gives none.
COMMON_PARAMETERS = {
    "cursor": "Where the page starts: the `next` of the page before (none for the first)",
    "limit": "Items per page",
    "mine": "Only the caller's own",
    "trashed": "The files in the trash instead of the others",
}


def _describe_common(operation: dict[str, Any]) -> None:
    for param in operation.get("parameters", []):
        text = COMMON_PARAMETERS.get(param.get("name", ""))
        if param.get("in") == "query" and text and not param.get("description"):
            param["description"] = text


def _plain_headers(operation: dict[str, Any]) -> None:
    """A header is a string or absent, never JSON null: ``oneOf [string, null]`` -> string."""
    for param in operation.get("parameters", []):
        schema = param.get("schema", {})
        if param.get("in") == "header" and "oneOf" in schema:
            kept = [s for s in schema["oneOf"] if s.get("type") != "null"]
            if len(kept) == 1:
                param["schema"] = {**kept[0], **{k: v for k, v in schema.items() if k != "oneOf"}}


def _success(operation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    for status, response in operation["responses"].items():
        if status.startswith("2"):
            return status, response
    raise AssertionError(f"{operation.get('operationId')} has no success response")


def _refine_bytes(operation: dict[str, Any], spec: Bytes, head: bool) -> None:
    _, success = _success(operation)
    success["description"] = "The bytes" if not head else "The headers the bytes would have"
    content = {media: {"schema": BINARY} for media in spec.media_types}
    if head:
        success.pop("content", None)
    else:
        success["content"] = content
    success["headers"] = dict(BYTE_HEADERS)
    params = operation.setdefault("parameters", [])
    responses = operation["responses"]
    if spec.validators:
        params.append(IF_NONE_MATCH)
        responses["304"] = {
            "description": "Not modified: the `If-None-Match` ETag still matches",
            "headers": {"ETag": ETAG_HEADER},
        }
    if spec.ranges:
        params += [RANGE, IF_RANGE]
        partial: dict[str, Any] = {
            "description": "Part of the bytes, the one range asked for",
            "headers": {
                **BYTE_HEADERS,
                "Content-Range": {
                    "description": "`bytes START-END/SIZE`",
                    "schema": {"type": "string"},
                },
            },
        }
        if not head:
            partial["content"] = content
        responses["206"] = partial
        responses["416"] = _problem_response(416)


def _refine_upload(operation: dict[str, Any]) -> None:
    operation["requestBody"] = {
        "required": True,
        "description": "The raw bytes of one file (name it with `?filename=`), or a form with"
        " one or more parts named `file`",
        "content": {
            "application/octet-stream": {"schema": BINARY},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "array",
                            "items": BINARY,
                            "description": "The files, one part each (repeat the field)",
                        }
                    },
                },
                "encoding": {"file": {"contentType": "application/octet-stream, */*"}},
            },
        },
    }


def _examples(examples: Iterable[Any]) -> dict[str, Any]:
    return {f"example{i}": {"value": e} for i, e in enumerate(examples, 1)}


def _refine_operation(
    operation: dict[str, Any], *, path: str, method: str, handler: Any, schemas: dict[str, Any]
) -> None:
    spec = _declared(handler) or Doc(op=_snake(handler.handler_name))
    head = method == "head"
    operation["operationId"] = spec.op.removesuffix("_get") + "_head" if head else spec.op
    operation["security"] = _security(handler, spec)
    if spec.upload:
        _refine_upload(operation)
    if spec.request_examples and "requestBody" in operation:
        for media in operation["requestBody"]["content"].values():
            media["examples"] = _examples(spec.request_examples)
    body = handler.parsed_fn_signature.parameters.get("data")
    if body is not None and body.has_default and "requestBody" in operation:
        operation["requestBody"]["required"] = False  # `data: ... = None`: a body is optional
    responses = operation.setdefault("responses", {})
    for status in [s for s in responses if s[0] in "45"]:
        del responses[status]  # Litestar's default 400: this server never sends it
    # 503 can come from any route: past `max_concurrency`, or with the store down
    for status in sorted(_automatic_errors(handler, operation, path) | spec.errors | {503}):
        responses[str(status)] = _problem_response(status)
    _, success = _success(operation)
    if spec.bytes:
        _refine_bytes(operation, spec.bytes, head)
    elif spec.conditional:
        operation.setdefault("parameters", []).append(IF_NONE_MATCH)
        responses["304"] = {
            "description": "Not modified: the `If-None-Match` ETag still matches",
            "headers": {"ETag": ETAG_HEADER},
        }
    if spec.success_media_types:
        success["content"] = dict(spec.success_media_types)
    if spec.etag:
        success.setdefault("headers", {})["ETag"] = {
            "description": spec.etag
            if isinstance(spec.etag, str)
            else 'The version CID, quoted ("bafyr4i..."): send it as `If-Match`',
            "schema": {"type": "string"},
        }
    if spec.response_example is not None:
        for media in success.get("content", {}).values():
            media["examples"] = _examples([spec.response_example])
    for param in operation.get("parameters", []):
        if param.get("in") == "path" and param["name"] in spec.param_examples:
            param["example"] = spec.param_examples[param["name"]]
    _plain_headers(operation)
    _describe_common(operation)
    if spec.sort_enum:
        _refine_sort(operation, schemas, spec.sort_enum)
    operation["responses"] = dict(sorted(responses.items()))


def refine(schema: Mapping[str, Any], app: Litestar) -> dict[str, Any]:
    """The finished document, from Litestar's draft (left as it is) and the routes' ``opt``."""
    document = copy.deepcopy(dict(schema))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[PROBLEM_SCHEMA] = PROBLEM_DETAILS
    for path, method, handler in _routes(app):
        operation = document["paths"].get(path, {}).get(method)
        if operation is not None:
            _refine_operation(operation, path=path, method=method, handler=handler, schemas=schemas)
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return copy.deepcopy(document)  # no part shared with another document or this module


_STATE_KEY = "openapi_document"


def document(app: Litestar) -> dict[str, Any]:
    """The app's finished OpenAPI document (built once per app, kept in its state)."""
    found = app.state.get(_STATE_KEY)
    if not isinstance(found, dict):
        found = refine(app.openapi_schema.to_schema(), app)
        app.state[_STATE_KEY] = found
    return found


class DocumentJson(JsonRenderPlugin):
    """Serves :func:`document` rather than Litestar's draft."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return json.dumps(document(request.app), ensure_ascii=False).encode()


__all__ = ["DAG_CBOR", "Bytes", "Doc", "DocumentJson", "doc", "document", "refine"]
