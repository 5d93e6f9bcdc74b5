"""The fake values codegen writes for each model (``seeder/_generated/``): every one passes
the model's own checks (its Create schema and the content encoding), the same seed gives
the same values, and golden content CIDs catch a codegen or vocabulary change."""

from typing import Any

import pytest

from mart._generated import models, ops
from mart.specs import SPEC
from mcore.cid import record_cid
from mcore.records.encoding import encode
from seeder._generated import FAKES
from seeder.lorem import Lorem

MODELS = [m.name for m in SPEC.models]

# Hard-coded: the content CIDs of the first fake of each model for Lorem(0) (links made up
# from the seed). A change to the templates, the kinds' fake expressions or the vocabulary
# changes them, and must be deliberate.
GOLDEN = {
    "artist": "bafyr4ignkes7u2lk7gjkldvvyozibb7kr2og6zc56ou4efjfrgfu7m3zke",
    "image_file": "bafyr4igaklrfomjw354w2snfmrawc3sa6kqbgwrufs25mmq5fzavkuj4ce",
    "still_image": "bafyr4iepnhn2m3vu5e24lx4omldgii46rygsl4hsihmc5sxxjuccmkapmi",
    "image_release": "bafyr4ih7szlh4kp4gk6banwz5brf6ps2lcvwky2cerroxfgqdrxb7nmqeq",
}


def create_schema(name: str) -> Any:
    return getattr(models, getattr(ops, name.upper()).read.__name__.removesuffix("Read") + "Create")


def content_cid(name: str, body: dict[str, Any]) -> str:
    data = create_schema(name).model_validate(body)
    return record_cid(encode(getattr(ops, name.upper()).content_of(data)))


def test_every_model_has_fakes() -> None:
    assert set(FAKES["mart"]) == set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_every_fake_passes_the_models_checks(name: str) -> None:
    seen: set[str] = set()
    # links to another domain's records are made only from those given (see below)
    profiles = {"msocial.profile": ["bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"]}
    for seed in range(60):
        lorem = Lorem(seed, records=profiles)
        for _ in range(5):
            body = FAKES["mart"][name](lorem)
            content_cid(name, body)  # validates, and encodes canonically
            seen |= set(body)
    schema = create_schema(name)
    assert seen == set(schema.model_fields) - {"visibility"}


def test_fakes_link_what_they_are_given() -> None:
    artist = "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"
    file = "bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu"
    lorem = Lorem(1, records={"artist": [artist]}, files=[file])
    image = FAKES["mart"]["image_file"](lorem)
    assert image["file"] == file
    creators = [
        c for _ in range(20) for c in FAKES["mart"]["still_image"](lorem).get("creators", [])
    ]
    assert creators
    assert {c["artist"] for c in creators} == {artist}


def test_a_link_to_another_domain_is_made_only_from_what_is_given() -> None:
    """An artist's `profile` (a link to msocial's profile): left out when the seeder has no
    profiles (a made-up id would be refused), one of those given otherwise."""
    alone = [FAKES["mart"]["artist"](Lorem(i)) for i in range(50)]
    assert all("profile" not in body for body in alone)
    profile = "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"
    given = [
        FAKES["mart"]["artist"](Lorem(i, records={"msocial.profile": [profile]})) for i in range(50)
    ]
    assert {body.get("profile") for body in given} == {profile, None}


def test_titles_come_in_three_forms() -> None:
    lorem = Lorem(2, optional=1.0)
    for _ in range(20):
        title = FAKES["mart"]["still_image"](lorem)["title"]
        assert title["short"] in title["full"]
        assert len(title["abbreviated"]) <= 50
        name = FAKES["mart"]["artist"](lorem)["name"]
        assert name["full"].endswith(name["short"])


def test_the_same_seed_gives_the_same_fakes() -> None:
    first = {name: content_cid(name, FAKES["mart"][name](Lorem(0))) for name in MODELS}
    again = {name: content_cid(name, FAKES["mart"][name](Lorem(0))) for name in MODELS}
    assert first == again == GOLDEN
    other = {name: content_cid(name, FAKES["mart"][name](Lorem(1))) for name in MODELS}
    assert not set(other.values()) & set(first.values())
