"""How a record form's inputs become a request body and back, and the row moves the
server makes for a form without JavaScript (``api.web.fields``), on the real generated
page models."""

from __future__ import annotations

from api._generated.mart_pages import ARTIST, STILL_IMAGE
from api.web.fields import body_of, diff, flat_display, form_values, reorder, rows

ARTIST_ID = "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"


def test_a_form_becomes_the_body_the_api_takes() -> None:
    form = {
        "title.full": ["Nordnes"],
        "title.short": [""],
        "description": ["one\r\ntwo"],
        "creators.0.artist": [ARTIST_ID],
        "creators.0.role": ["painter"],
        "creators.1.artist": [""],
        "creators.1.role": [""],
        "image_files.0": [""],
        "year": [" 2019 "],
        "tags.0": ["dawn"],
        "tags.1": [""],
        "tags.2": ["harbour"],
        "medium": ["   "],
    }
    assert body_of(STILL_IMAGE, form) == {
        "title": {"full": "Nordnes"},
        "description": "one\ntwo",
        "creators": [{"artist": ARTIST_ID, "role": "painter"}],
        "image_files": [],
        "year": 2019,
        "medium": None,
        "tags": ["dawn", "harbour"],
        "licence": None,
    }
    # what is not a number goes on as typed, for the schema's own message
    assert body_of(STILL_IMAGE, {"year": ["19.5"]})["year"] == "19.5"


def test_values_go_back_into_the_form() -> None:
    record = {
        "name": {"full": "Maren", "short": None},
        "links": ["https://a.example", "https://b.example"],
        "bio": None,
    }
    values = form_values(ARTIST, record)
    assert values == {
        "name.full": "Maren",
        "links.0": "https://a.example",
        "links.1": "https://b.example",
    }
    links = ARTIST.fields[2]
    assert rows(links, values, "links") == 3  # each value and one empty row
    assert rows(links, {**values, "links.2": ""}, "links") == 3
    assert rows(links, {**values, "_rows:links": "5"}, "links") == 5
    many = {f"links.{i}": "https://x.example" for i in range(60)}
    assert rows(links, many, "links") == 50  # the spec's max_items


def test_rows_move_and_go() -> None:
    values = {"links.0": "a", "links.1": "b", "links.2": "c", "bio": "x"}
    assert reorder(values, "links", "up", 2) == {
        "links.0": "a",
        "links.1": "c",
        "links.2": "b",
        "bio": "x",
    }
    assert reorder(values, "links", "down", 0)["links.0"] == "b"
    assert reorder(values, "links", "remove", 1) == {"links.0": "a", "links.1": "c", "bio": "x"}
    assert reorder(values, "links", "up", 0) == values  # the first cannot go higher
    nested = {"creators.0.role": "painter", "creators.1.role": "printer"}
    assert reorder(nested, "creators", "down", 0) == {
        "creators.0.role": "printer",
        "creators.1.role": "painter",
    }


def test_the_diff_between_two_versions() -> None:
    older = flat_display(ARTIST, {"name": {"full": "Old"}, "links": ["https://a.example"]})
    newer = flat_display(ARTIST, {"name": {"full": "New"}, "bio": "Hello"})
    assert diff(older, newer) == [
        ("bio", "", "Hello"),
        ("links.0", "https://a.example", ""),
        ("name.full", "Old", "New"),
    ]
    assert diff(newer, newer) == []
    assert ARTIST.title_of({"name": {"full": "Maren"}}) == "Maren"
    assert ARTIST.title_of({"id": "bafyr4iabcdefgh12345678"}) == "Artist 12345678"
