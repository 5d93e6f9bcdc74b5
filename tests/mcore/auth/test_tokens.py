import base64
import json

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from mcore.auth.tokens import AccessTokens
from mcore.settings import Settings

KEY_A = "a" * 40
KEY_B = "b" * 40
SCOPES = frozenset({"files:read", "files:write"})


def tokens(keys: dict[str, str], current: str, **extra: object) -> AccessTokens:
    return AccessTokens(Settings(token_keys=keys, token_key_id=current, **extra))


def b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def issue(t: AccessTokens) -> str:
    return t.issue(user_id="u1", session_id="s1", role="user", scopes=SCOPES)


def test_round_trip() -> None:
    t = tokens({"a": KEY_A}, "a")
    claims = t.verify(issue(t))
    assert claims is not None
    assert (claims.user_id, claims.session_id, claims.role, claims.scopes) == (
        "u1",
        "s1",
        "user",
        SCOPES,
    )


def test_expires_with_the_clock(frozen_clock) -> None:
    t = tokens({"a": KEY_A}, "a")
    frozen_clock.frozen = 1_800_000_000.0
    token = issue(t)
    frozen_clock.frozen += 15 * 60 - 1
    assert t.verify(token) is not None  # remembered once verified...
    frozen_clock.frozen += 1
    assert t.verify(token) is None  # ...but never past its expiry
    assert tokens({"a": KEY_A}, "a").verify(token) is None  # nor when verified afresh


def test_rotated_keys() -> None:
    old = tokens({"a": KEY_A}, "a")
    token = issue(old)
    rotated = tokens({"a": KEY_A, "b": KEY_B}, "b")
    assert rotated.verify(token) is not None  # the retired key still verifies
    assert rotated.verify(issue(rotated)) is not None
    assert tokens({"b": KEY_B}, "b").verify(token) is None  # until it is removed


def test_wrongly_signed_tokens_are_refused() -> None:
    ours = tokens({"a": KEY_A}, "a")
    theirs = tokens({"a": KEY_B}, "a")  # same key id, another secret
    assert ours.verify(issue(theirs)) is None


def encode(header: dict, claims: dict, key: str) -> str:
    return jwt.encode(
        header, claims, OctKey.import_key(key.encode()), algorithms=["HS256", "HS512"]
    )


GOOD_CLAIMS = {
    "iss": "mstack",
    "sub": "u1",
    "sid": "s1",
    "role": "admin",
    "scope": "admin",
    "iat": 1,
    "exp": 4_000_000_000,
}


@pytest.mark.parametrize(
    "forge",
    [
        # alg: none, with and without a signature part
        lambda: b64({"alg": "none", "typ": "at+jwt", "kid": "a"}) + "." + b64(GOOD_CLAIMS) + ".",
        lambda: b64({"alg": "none", "kid": "a"}) + "." + b64(GOOD_CLAIMS),
        # another algorithm than the one we use
        lambda: encode({"alg": "HS512", "typ": "at+jwt", "kid": "a"}, GOOD_CLAIMS, KEY_A * 2),
        # no key id, unknown key id
        lambda: encode({"alg": "HS256", "typ": "at+jwt"}, GOOD_CLAIMS, KEY_A),
        lambda: encode({"alg": "HS256", "typ": "at+jwt", "kid": "zz"}, GOOD_CLAIMS, KEY_A),
        # wrong type, wrong issuer, missing or mistyped claims
        lambda: encode({"alg": "HS256", "typ": "JWT", "kid": "a"}, GOOD_CLAIMS, KEY_A),
        lambda: encode(
            {"alg": "HS256", "typ": "at+jwt", "kid": "a"}, {**GOOD_CLAIMS, "iss": "x"}, KEY_A
        ),
        lambda: encode(
            {"alg": "HS256", "typ": "at+jwt", "kid": "a"},
            {k: v for k, v in GOOD_CLAIMS.items() if k != "exp"},
            KEY_A,
        ),
        lambda: encode(
            {"alg": "HS256", "typ": "at+jwt", "kid": "a"}, {**GOOD_CLAIMS, "exp": "9"}, KEY_A
        ),
        lambda: encode(
            {"alg": "HS256", "typ": "at+jwt", "kid": "a"}, {**GOOD_CLAIMS, "sid": 5}, KEY_A
        ),
        # garbage
        lambda: "",
        lambda: "not a token",
        lambda: "a.b.c",
        lambda: "eyJ.eyJ.sig",
        lambda: "\u00e9\u00e9.\u00e9.\u00e9",
    ],
)
def test_forged_and_malformed_tokens_are_refused(forge) -> None:
    assert tokens({"a": KEY_A}, "a").verify(forge()) is None


def test_the_control_case_of_the_forgeries_is_accepted() -> None:
    # The helper makes valid tokens when nothing is wrong, so the cases above fail for
    # the reason they name.
    token = encode({"alg": "HS256", "typ": "at+jwt", "kid": "a"}, GOOD_CLAIMS, KEY_A)
    assert tokens({"a": KEY_A}, "a").verify(token) is not None


def test_tampered_payload_is_refused() -> None:
    t = tokens({"a": KEY_A}, "a")
    header, _, sig = issue(t).split(".")
    forged = f"{header}.{b64({**GOOD_CLAIMS, 'role': 'admin'})}.{sig}"
    assert t.verify(forged) is None
