"""What a web browser holds instead of bearer tokens: a sealed session id (the session
cookie's value) and the CSRF token that goes with it.

Both are HMACs under the settings' ``token_keys``, so nothing new is stored: the seal names
an ordinary session (``AuthSession``), and whether that session still stands is asked of
the same cached state as for access tokens, so a sign-out or revocation refuses the cookie
at once. The CSRF token of a signed-in browser is bound to its session; before sign-in it
is bound to a random nonce the browser keeps in a cookie of its own (the sign-in and
registration forms). A page carries the token in a hidden field or a meta tag; a forged
cross-site request has the cookies but cannot know the token.
"""

from __future__ import annotations

import base64
import hmac
import secrets

from mcore.settings import Settings

SEAL_LABEL = b"mstack-browser-session-v1\n"
CSRF_LABEL = b"mstack-csrf-v1\n"
NONCE_LABEL = b"mstack-csrf-nonce-v1\n"
MAX_VALUE = 200  # longer cookie values or tokens are not ours: refused before any HMAC


def _mac(secret: bytes, label: bytes, message: str) -> str:
    raw = hmac.digest(secret, label + message.encode(), "sha256")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class BrowserSeals:
    """Seals session ids for cookies and makes and checks CSRF tokens."""

    def __init__(self, settings: Settings) -> None:
        self.kid = settings.token_key_id
        self._secrets = {
            kid: secret.get_secret_value().encode() for kid, secret in settings.token_keys.items()
        }

    def seal(self, session_id: str) -> str:
        """The cookie value that stands for this session: ``<session id>.<key id>.<mac>``."""
        return f"{session_id}.{self.kid}.{_mac(self._secrets[self.kid], SEAL_LABEL, session_id)}"

    def unseal(self, value: str) -> str | None:
        """The session id a cookie value was sealed with; None when it was not sealed by this
        server (or by a key it no longer lists)."""
        if len(value) > MAX_VALUE:
            return None
        session_id, _, rest = value.partition(".")
        kid, _, mac = rest.partition(".")
        secret = self._secrets.get(kid)
        if not session_id or secret is None:
            return None
        expected = _mac(secret, SEAL_LABEL, session_id)
        return session_id if hmac.compare_digest(expected.encode(), mac.encode()) else None

    @staticmethod
    def new_nonce() -> str:
        """A random value to bind a signed-out browser's CSRF token to."""
        return secrets.token_urlsafe(24)

    def csrf_token(self, *, session_id: str | None = None, nonce: str | None = None) -> str:
        """The CSRF token of a session, or (signed out) of a nonce."""
        if session_id is not None:
            return _mac(self._secrets[self.kid], CSRF_LABEL, session_id)
        assert nonce is not None
        return _mac(self._secrets[self.kid], NONCE_LABEL, nonce)

    def csrf_ok(
        self, token: str | None, *, session_id: str | None = None, nonce: str | None = None
    ) -> bool:
        """Whether ``token`` is the CSRF token of that session (or nonce), under any key
        still listed (one may have rotated since the page was made)."""
        if not token or len(token) > MAX_VALUE or (session_id is None and not nonce):
            return False
        label, message = (
            (CSRF_LABEL, session_id) if session_id is not None else (NONCE_LABEL, nonce)
        )
        assert message is not None
        return any(
            hmac.compare_digest(_mac(secret, label, message).encode(), token.encode())
            for secret in self._secrets.values()
        )
