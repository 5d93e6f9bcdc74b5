"""Users, sessions, API keys, signed links: who is calling, and whether they still may.

- ``Auth`` (service): one per process; authenticates bearer tokens from cached state.
- ``LinkSigner`` (links): makes and verifies signed links with no database.
- ``ops``: the account, session, key, link and admin operations.
"""

from mcore.auth.links import LinkGrant, LinkRefused, LinkSigner, is_signed
from mcore.auth.models import ApiKey, AuthSession, RefreshToken, User
from mcore.auth.service import Auth

__all__ = [
    "ApiKey",
    "Auth",
    "AuthSession",
    "LinkGrant",
    "LinkRefused",
    "LinkSigner",
    "RefreshToken",
    "User",
    "is_signed",
]
