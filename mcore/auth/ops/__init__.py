"""Account, session, key, link and admin ops. Each takes the session (it never commits,
except ``refresh``, which must keep a revocation it refuses with) and the actor."""

from mcore.auth.ops.accounts import (
    change_password,
    create_user,
    get_me,
    normalize_email,
    normalize_phone,
    normalize_username,
    register,
    update_me,
)
from mcore.auth.ops.admin import (
    find_user,
    get_user,
    list_users,
    revoke_user_sessions,
    set_disabled,
    set_role,
    user_sessions,
)
from mcore.auth.ops.keys import create_key, list_keys, revoke_key
from mcore.auth.ops.links import create_link
from mcore.auth.ops.sessions import (
    browser_login,
    list_sessions,
    login,
    logout,
    prune_sessions,
    refresh,
    revoke_session,
)

__all__ = [
    "browser_login",
    "change_password",
    "create_key",
    "create_link",
    "create_user",
    "find_user",
    "get_me",
    "get_user",
    "list_keys",
    "list_sessions",
    "list_users",
    "login",
    "logout",
    "normalize_email",
    "normalize_phone",
    "normalize_username",
    "prune_sessions",
    "refresh",
    "register",
    "revoke_key",
    "revoke_session",
    "revoke_user_sessions",
    "set_disabled",
    "set_role",
    "update_me",
    "user_sessions",
]
