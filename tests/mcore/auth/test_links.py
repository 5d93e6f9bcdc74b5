from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from mcore.auth.links import LinkRefused, LinkSigner, is_signed
from mcore.settings import Settings

OLD = "o" * 40
NEW = "n" * 40
PATH = "/api/v1/files/01abc/content"
NOW = 1_800_000_000.0


def signer(keys: dict[str, str], current: str) -> LinkSigner:
    return LinkSigner(Settings(link_keys=keys, link_key_id=current))


def split(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.path, parts.query


@pytest.fixture
def now(frozen_clock):
    frozen_clock.frozen = NOW
    return frozen_clock


def test_valid_link(now) -> None:
    s = signer({"k1": OLD}, "k1")
    url = s.sign(PATH, expires=int(NOW) + 60, params={"cid": "bafy", "type": "image/png"})
    path, query = split(url)
    assert path == PATH
    assert is_signed(query)
    assert is_signed(query.encode())
    grant = s.verify(path, query)
    assert grant.path == PATH
    assert grant.expires == int(NOW) + 60
    assert grant.params == {"cid": "bafy", "type": "image/png"}
    assert s.verify(path, query.encode()).params == grant.params  # raw ASGI query bytes too


def test_parameter_order_does_not_matter(now) -> None:
    s = signer({"k1": OLD}, "k1")
    path, query = split(s.sign(PATH, expires=int(NOW) + 60, params={"b": "2", "a": "1"}))
    shuffled = urlencode(list(reversed(parse_qsl(query))))
    assert s.verify(path, shuffled).params == {"a": "1", "b": "2"}


def test_expired_link(now) -> None:
    s = signer({"k1": OLD}, "k1")
    path, query = split(s.sign(PATH, expires=int(NOW) + 60))
    now.frozen = NOW + 59
    s.verify(path, query)
    now.frozen = NOW + 60
    with pytest.raises(LinkRefused, match="expired"):
        s.verify(path, query)


def tamper(query: str, name: str, value: str | None) -> str:
    pairs = [(k, v) for k, v in parse_qsl(query) if k != name]
    if value is not None:
        pairs.append((name, value))
    return urlencode(pairs)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p, q: ("/api/v1/files/01abd/content", q), "altered"),  # another file
        (lambda p, q: (p, tamper(q, "exp", str(int(NOW) + 10**6))), "altered"),  # longer life
        (lambda p, q: (p, tamper(q, "cid", "bafyother")), "altered"),  # other bytes
        (lambda p, q: (p, tamper(q, "type", "text/html")), "altered"),  # other type
        (lambda p, q: (p, q + "&extra=1"), "altered"),  # an added parameter
        (lambda p, q: (p, tamper(q, "sig", "A" * 43)), "altered"),  # a made-up signature
        (lambda p, q: (p, tamper(q, "kid", "k9")), "no longer accepts"),  # unknown key
        (lambda p, q: (p, tamper(q, "sig", None)), "malformed"),
        (lambda p, q: (p, tamper(q, "exp", "soon")), "malformed"),
        (lambda p, q: (p, q + "&cid=again"), "twice"),
        (lambda p, q: (p, "sig=%%%&&=="), "malformed"),
        (lambda p, q: (p, b"sig=\xff\xfe"), "malformed"),
    ],
)
def test_tampered_links_are_refused(now, change, reason) -> None:
    s = signer({"k1": OLD}, "k1")
    path, query = split(
        s.sign(PATH, expires=int(NOW) + 60, params={"cid": "bafy", "type": "image/png"})
    )
    s.verify(path, query)  # the untouched link is fine
    bad_path, bad_query = change(path, query)
    with pytest.raises(LinkRefused, match=reason):
        s.verify(bad_path, bad_query)


def test_signing_key_rotates_without_breaking_valid_links(now) -> None:
    before = signer({"k1": OLD}, "k1")
    old_link = split(before.sign(PATH, expires=int(NOW) + 3600))
    after = signer({"k1": OLD, "k2": NEW}, "k2")  # new key signs, old one still verifies
    new_link = split(after.sign(PATH, expires=int(NOW) + 3600))
    assert "kid=k2" in new_link[1]
    after.verify(*old_link)
    after.verify(*new_link)
    with pytest.raises(LinkRefused, match="no longer accepts"):
        before.verify(*new_link)
    retired = signer({"k2": NEW}, "k2")  # once the old links have expired, drop the key
    retired.verify(*new_link)
    with pytest.raises(LinkRefused, match="no longer accepts"):
        retired.verify(*old_link)


def test_same_key_id_with_another_secret_is_refused(now) -> None:
    path, query = split(signer({"k1": OLD}, "k1").sign(PATH, expires=int(NOW) + 60))
    with pytest.raises(LinkRefused, match="altered"):
        signer({"k1": NEW}, "k1").verify(path, query)


def test_reserved_names_cannot_be_parameters() -> None:
    with pytest.raises(ValueError, match="may not use"):
        signer({"k1": OLD}, "k1").sign(PATH, expires=1, params={"exp": "2"})


def test_is_signed() -> None:
    assert not is_signed("")
    assert not is_signed("design=1")
    assert is_signed("a=1&sig=x")
