"""Access tokens (JWT, HS256 via joserfc) and the opaque secrets behind refresh tokens and keys.

An access token names its session; whether that session still stands is asked of
``mcore.auth.live`` on every request, so a signature alone never outlives a logout.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from mcore.clock import clock
from mcore.settings import Settings

ISSUER = "mstack"
TOKEN_TYPE = "at+jwt"  # noqa: S105 (RFC 9068's media type)
REFRESH_PREFIX = "msr_"
SUCCESSOR_LABEL = b"mstack-refresh-successor-v1\n"
API_KEY_PREFIX = "msk_"
# Verified tokens are remembered so a busy client costs a dictionary lookup, not an HMAC.
VERIFIED_CACHE_SIZE = 10_000


def new_secret(prefix: str) -> str:
    """A fresh opaque credential: the prefix and 256 random bits."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which an opaque credential is stored and looked up.

    These secrets carry 256 random bits, so a fast hash is safe; passwords use argon2id.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says."""

    user_id: str
    session_id: str
    role: str
    scopes: frozenset[str]
    expires: int


class AccessTokens:
    """Signs and verifies access tokens with the settings' ``token_keys``."""

    def __init__(self, settings: Settings) -> None:
        self.ttl = int(settings.access_token_ttl.total_seconds())
        self.kid = settings.token_key_id
        self.keys = {
            kid: OctKey.import_key(secret.get_secret_value().encode(), {"kid": kid})
            for kid, secret in settings.token_keys.items()
        }
        self._secrets = {
            kid: secret.get_secret_value().encode() for kid, secret in settings.token_keys.items()
        }
        self._verified: OrderedDict[str, AccessClaims] = OrderedDict()

    def successors(self, refresh_token: str) -> list[str]:
        """The refresh token that ``refresh_token`` rotates into, under the signing key
        first, then under each other key still listed (one may have rotated since).

        Derived, not random: a refresh presented again within the grace period is given
        the same successor without the database ever holding a usable token (only
        digests are stored). Deriving needs a server key, so a stolen token or database
        does not tell what a token rotates into.
        """
        kids = [self.kid, *(k for k in self._secrets if k != self.kid)]
        message = SUCCESSOR_LABEL + refresh_token.encode()
        return [
            REFRESH_PREFIX
            + base64.urlsafe_b64encode(hmac.digest(self._secrets[kid], message, "sha256"))
            .rstrip(b"=")
            .decode()
            for kid in kids
        ]

    def issue(self, *, user_id: str, session_id: str, role: str, scopes: frozenset[str]) -> str:
        """A token for this session, valid for ``access_token_ttl``."""
        now = int(clock.time())
        claims = {
            "iss": ISSUER,
            "sub": user_id,
            "sid": session_id,
            "role": role,
            "scope": " ".join(sorted(scopes)),
            "iat": now,
            "exp": now + self.ttl,
        }
        header = {"alg": "HS256", "typ": TOKEN_TYPE, "kid": self.kid}
        return jwt.encode(header, claims, self.keys[self.kid], algorithms=["HS256"])

    def _key(self, obj: Any) -> OctKey:
        kid = obj.headers().get("kid")
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise JoseError("no such key id")
        return key

    def verify(self, token: str) -> AccessClaims | None:
        """The claims of a token this server signed and that has not expired; else None.

        Refuses anything but HS256 (so ``alg: none`` and key confusion), unknown key ids,
        bad signatures, malformed claims and expired tokens.
        """
        now = clock.time()
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if claims is None:
                return None
            self._verified[token] = claims
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        if claims.expires <= now:
            self._verified.pop(token, None)
            return None
        return claims

    def _decode(self, token: str) -> AccessClaims | None:
        try:
            decoded = jwt.decode(token, self._key, algorithms=["HS256"])
        except (JoseError, ValueError, TypeError, KeyError, UnicodeError):
            return None
        header, claims = decoded.header, decoded.claims
        if header.get("typ") != TOKEN_TYPE or claims.get("iss") != ISSUER:
            return None
        sub, sid, role = claims.get("sub"), claims.get("sid"), claims.get("role")
        exp, scope = claims.get("exp"), claims.get("scope")
        if not (
            isinstance(sub, str)
            and isinstance(sid, str)
            and isinstance(role, str)
            and isinstance(scope, str)
            and isinstance(exp, int)
            and not isinstance(exp, bool)
        ):
            return None
        return AccessClaims(sub, sid, role, frozenset(scope.split()), exp)


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a.encode(), b.encode())
