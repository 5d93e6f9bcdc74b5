"""A link across domains over HTTP: an artist (`mart/artist`) points at a social profile
(`msocial/profile`, `Link("msocial.profile")` in mart's spec). It is checked, encoded,
filtered and documented exactly as a link within mart is (an artist's avatar, an image
file): the same 422 for a profile that is missing, not a profile, deleted or one the
writer may not read, nothing written when refused."""

from __future__ import annotations

from typing import Any

from multiformats import CID

from mcore.records.encoding import cid_text, decode
from tests.conftest import AuthedClient, MakeClient

ARTISTS = "/api/v1/artists"
PROFILES = "/api/v1/profiles"
DAG_CBOR = "application/vnd.ipld.dag-cbor"
NOWHERE = "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"  # canonical, unknown


async def _profile(http: AuthedClient, handle: str, *, public: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"handle": handle, "display_name": handle.title()}
    if public:
        body["visibility"] = "public"
    reply = await http.post(PROFILES, json=body)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


async def _artists(http: AuthedClient, **params: str) -> list[str]:
    reply = await http.get(ARTISTS, params=params)
    assert reply.status_code == 200, reply.text
    return [item["id"] for item in reply.json()["items"]]


async def test_an_artist_points_at_a_profile(make_client: MakeClient) -> None:
    ann = await make_client("user")
    mine = await _profile(ann, "maren")
    made = await ann.post(ARTISTS, json={"name": {"full": "Maren Økland"}, "profile": mine["id"]})
    assert made.status_code == 201, made.text
    artist = made.json()
    assert artist["profile"] == mine["id"]
    other = await ann.post(ARTISTS, json={"name": {"full": "Studio Kallio"}})
    assert other.json()["profile"] is None

    read = await ann.get(f"{ARTISTS}/{artist['id']}")
    assert read.json()["profile"] == mine["id"]
    assert await _artists(ann, profile=mine["id"]) == [artist["id"]]
    assert await _artists(ann, profile=NOWHERE) == []

    # the content block holds the profile as a CID link (tag 42), like any record link
    content = await ann.get(f"/api/v1/objects/{artist['content_cid']}")
    assert content.json()["profile"] == {"/": mine["id"]}
    raw = await ann.get(f"/api/v1/objects/{artist['content_cid']}", headers={"Accept": DAG_CBOR})
    block = decode(raw.content)
    assert block["$type"] == "mart/artist"
    assert isinstance(block["profile"], CID)
    assert cid_text(block["profile"]) == mine["id"]

    # moving to another profile writes a version; the filter follows the head
    studio = await _profile(ann, "kallio")
    moved = await ann.patch(f"{ARTISTS}/{artist['id']}", json={"profile": studio["id"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["n"] == 2
    assert await _artists(ann, profile=mine["id"]) == []
    assert await _artists(ann, profile=studio["id"]) == [artist["id"]]
    cleared = await ann.patch(f"{ARTISTS}/{artist['id']}", json={"profile": None})
    assert cleared.json()["profile"] is None
    assert await _artists(ann, profile=studio["id"]) == []


async def test_a_profile_link_is_refused_as_a_link_within_mart_is(
    make_client: MakeClient,
) -> None:
    ann = await make_client("user")
    bob = await make_client("user")
    hidden = await _profile(bob, "bob-private")
    bobs_image = await bob.post(ARTISTS, json={"name": {"full": "Not an image file"}})
    mine = await _profile(ann, "ann")
    made = await ann.post(ARTISTS, json={"name": {"full": "Kept"}, "profile": mine["id"]})
    artist = made.json()
    gone = await _profile(ann, "ann-gone")
    assert (await ann.delete(f"{PROFILES}/{gone['id']}")).status_code in (200, 204)

    # a same-domain link to a record the writer may not read: what a profile link matches
    same = await ann.post(ARTISTS, json={"name": {"full": "X"}, "avatar": bobs_image.json()["id"]})
    assert same.status_code == 422
    assert same.json()["detail"] == (
        f"no image file with id {bobs_image.json()['id']} that you may read"
    )

    for target, message in (
        (hidden["id"], f"no profile with id {hidden['id']} that you may read"),
        (NOWHERE, f"no profile with id {NOWHERE} that you may read"),
        (artist["id"], f"{artist['id']} is not a profile (it is a mart/artist record)"),
        (gone["id"], f"profile {gone['id']} was deleted"),
    ):
        refused = await ann.post(ARTISTS, json={"name": {"full": "Refused"}, "profile": target})
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["detail"] == message
        assert problem["errors"][0]["field"] == "profile"
        patched = await ann.patch(f"{ARTISTS}/{artist['id']}", json={"profile": target})
        assert patched.status_code == 422, patched.text
        assert patched.json()["detail"] == message
    bad = await ann.post(ARTISTS, json={"name": {"full": "Refused"}, "profile": "not-a-cid"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "profile"

    # nothing was written: no refused artist, no new version of the kept one
    assert await _artists(ann, mine="true") == [artist["id"]]
    history = (await ann.get(f"{ARTISTS}/{artist['id']}/versions")).json()
    assert [v["n"] for v in history["items"]] == [1]

    # once Bob makes his profile public, Ann may point at it; Bob finds her public artist
    await bob.patch(f"{PROFILES}/{hidden['id']}", json={"visibility": "public"})
    fan = await ann.post(
        ARTISTS, json={"name": {"full": "Fan"}, "profile": hidden["id"], "visibility": "public"}
    )
    assert fan.status_code == 201, fan.text
    private = await ann.post(ARTISTS, json={"name": {"full": "Quiet"}, "profile": hidden["id"]})
    assert private.status_code == 201
    assert await _artists(bob, profile=hidden["id"]) == [fan.json()["id"]]
    assert set(await _artists(ann, profile=hidden["id"])) == {
        fan.json()["id"],
        private.json()["id"],
    }


async def test_the_openapi_schema_documents_the_profile_link(make_client: MakeClient) -> None:
    anyone = await make_client(None)
    schema = (await anyone.get("/schema/openapi.json")).json()
    create = schema["components"]["schemas"]["ArtistCreate"]["properties"]["profile"]
    assert "profile" in create["description"]
    listing = schema["paths"]["/api/v1/artists"]["get"]["parameters"]
    assert any(p["name"] == "profile" for p in listing)
