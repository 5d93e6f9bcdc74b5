from mcore.access import Role
from mcore.auth.live import Change, CredentialState, StateCache, after_commit
from mcore.auth.models import User
from mcore.clock import utcnow


def state(ident: str, user: str = "u1", *, key: bool = False) -> CredentialState:
    return CredentialState(
        id=ident,
        user_id=user,
        role=Role.user,
        live=True,
        expires=None,
        scopes=frozenset({"files:read"}) if key else None,
    )


def test_entries_expire_after_the_ttl(frozen_clock) -> None:
    frozen_clock.frozen = 1000.0
    cache = StateCache(ttl=10)
    cache.put("s:1", state("1"), cache.generation)
    frozen_clock.frozen += 10
    assert cache.get("s:1") is not None
    frozen_clock.frozen += 0.01
    assert cache.get("s:1") is None


def test_changes_evict_what_they_concern() -> None:
    cache = StateCache(ttl=60)
    for key, value in {
        "s:1": state("1", "u1"),
        "s:2": state("2", "u2"),
        "k:digest3": state("3", "u1", key=True),
        "k:digest4": state("4", "u2", key=True),
    }.items():
        cache.put(key, value, cache.generation)
    cache.apply(Change("session", "1"))
    assert cache.get("s:1") is None
    assert cache.get("s:2") is not None
    cache.apply(Change("key", "4"))
    assert cache.get("k:digest4") is None
    assert cache.get("k:digest3") is not None
    cache.apply(Change("user", "u1"))
    assert cache.get("k:digest3") is None
    assert cache.get("s:2") is not None
    cache.apply(Change("all"))
    assert cache.get("s:2") is None


def test_a_fetch_that_raced_a_change_is_not_stored() -> None:
    cache = StateCache(ttl=60)
    generation = cache.generation  # a request starts reading the database...
    cache.apply(Change("session", "1"))  # ...a revocation commits meanwhile...
    cache.put("s:1", state("1"), generation)  # ...and the old read must not be cached
    assert cache.get("s:1") is None


def test_an_untrusted_cache_answers_nothing() -> None:
    cache = StateCache(ttl=60)
    cache.put("s:1", state("1"), cache.generation)
    cache.trusted = False
    assert cache.get("s:1") is None


def test_change_encoding() -> None:
    assert Change.decode(Change("user", "abc").encode()) == Change("user", "abc")
    assert Change.decode("all:") == Change("all")
    assert Change.decode("nonsense") is None
    assert Change.decode("drop:tables") is None


def user(ident: str) -> User:
    now = utcnow()
    return User(
        id=ident,
        email=f"{ident}@x.org",
        email_key=f"{ident}@x.org",
        username=ident,
        username_key=ident,
        password_hash="x",
        created_at=now,
        updated_at=now,
    )


async def test_after_commit_runs_only_once_committed(db) -> None:
    calls: list[str] = []
    async with db.session(write=True) as session:
        session.add(user("u1"))
        after_commit(session, lambda: calls.append("first"))
        after_commit(session, lambda: calls.append("second"))
        await session.flush()
        assert calls == []
    assert calls == ["first", "second"]


async def test_after_commit_never_runs_on_rollback(db) -> None:
    calls: list[str] = []
    try:
        async with db.session(write=True) as session:
            session.add(user("u2"))
            after_commit(session, lambda: calls.append("rolled back"))
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert calls == []
