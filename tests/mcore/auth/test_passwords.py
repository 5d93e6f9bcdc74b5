import asyncio

import pytest

from mcore.auth.passwords import MAX_LENGTH, MIN_LENGTH, Passwords, check_password, common_passwords
from mcore.errors import Invalid
from mcore.settings import Settings
from tests.conftest import FAST_PASSWORDS


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("x" * (MIN_LENGTH - 1), "at least 10 characters"),
        ("x" * (MAX_LENGTH + 1), "at most 256 characters"),
        ("basketball", "commonly used"),
        ("BasketBall", "commonly used"),  # the list is compared case-folded
        ("ann@example.org", "same as the email"),
        ("ANN@EXAMPLE.ORG", "same as the email"),
        ("annie-the-user", "same as the username"),
        (" " * 12, "too easy to guess"),
        ("\x00" * 12, "control characters"),
        ("aaaaaaaaaaaa", "too easy to guess"),
        ("abcdefghijkl", "too easy to guess"),
        ("Password2024!", "too easy to guess"),
        ("line one\nline two", "control characters"),
        ("i am annie-the-user!", "contain the username"),
        ("ANNIE-THE-USER 2024!", "contain the username"),
        ("ann@example.org forever", "contain the email"),
        ("a" * 100 + " and then a strong tail q8#Zr!", "too easy to guess"),  # first 72 count
    ],
)
def test_each_rule_says_what_it_refuses(password: str, rule: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_password(password, email="ann@example.org", username="annie-the-user")
    assert rule in caught.value.detail
    assert caught.value.field == "password"
    assert password not in caught.value.detail  # the refused password is never echoed


def test_good_passwords_pass() -> None:
    check_password("zq3!v8#pm2")
    assert len("zq3!v8#pm2") == MIN_LENGTH
    longest = ("correct horse battery " * 12)[:MAX_LENGTH]
    check_password(longest)
    assert len(longest) == MAX_LENGTH
    check_password("correct horse battery", email="ann@example.org", username="ann")
    # A short name inside a word is no sign of reuse: only names of 4 or more count.
    check_password("bannister lighthouse", email="ann@example.org", username="ann")
    check_password("a long test password")  # the tests' own (tests/conftest.py)


def test_the_refusal_says_what_to_do() -> None:
    with pytest.raises(Invalid) as caught:
        check_password("aaaaaaaaaaaa")
    detail = caught.value.detail
    assert detail.startswith("the password is too easy to guess")
    assert "Repeats like" in detail  # the estimator's own advice
    assert "several uncommon words" in detail


@pytest.mark.parametrize(("score", "passes"), [(0, True), (2, True), (3, False), (4, False)])
def test_the_minimum_score_is_a_setting(score: int, passes: bool) -> None:
    weak = "password 0001"  # not on the list, scored 2 by zxcvbn
    if passes:
        check_password(weak, min_score=score)
        return
    with pytest.raises(Invalid):
        check_password(weak, min_score=score)


async def test_checks_run_off_the_loop_with_the_settings_score(tmp_path) -> None:
    passwords = Passwords(Settings(data_dir=tmp_path, password_min_score=4, **FAST_PASSWORDS))
    try:
        with pytest.raises(Invalid):
            await passwords.check("a fine password", username="ann")  # scored 3
        await passwords.check("a long test password", username="ann")
    finally:
        passwords.close()


def test_common_list_is_shipped_and_sizeable() -> None:
    words = common_passwords()
    assert len(words) > 1500
    assert all(len(w) >= MIN_LENGTH for w in words)
    assert "1234567890" in words


async def test_hash_and_verify_off_the_loop() -> None:
    passwords = Passwords(Settings(**FAST_PASSWORDS))
    try:
        hashed = await passwords.hash("a long test password")
        assert hashed.startswith("$argon2id$")
        assert "a long test password" not in hashed
        assert await passwords.verify("a long test password", hashed) == (True, None)
        assert await passwords.verify("another long password", hashed) == (False, None)
        # Many at once: the small pool queues them, the loop stays free.
        results = await asyncio.gather(*(passwords.hash(f"password {i:04}") for i in range(8)))
        assert len(set(results)) == 8
    finally:
        passwords.close()


async def test_verify_offers_a_new_hash_when_parameters_change() -> None:
    old = Passwords(Settings(**FAST_PASSWORDS))
    new = Passwords(Settings(**{**FAST_PASSWORDS, "argon2_memory_cost": 128}))
    try:
        hashed = await old.hash("a long test password")
        ok, upgraded = await new.verify("a long test password", hashed)
        assert ok
        assert upgraded is not None
        assert "m=128" in upgraded
        assert await new.verify("a long test password", upgraded) == (True, None)
        assert await new.verify("wrong password here", hashed) == (False, None)
    finally:
        old.close()
        new.close()


async def test_unknown_account_costs_one_verification_like_a_wrong_password() -> None:
    passwords = Passwords(Settings(**FAST_PASSWORDS))
    try:
        hashed = await passwords.hash("a long test password")
        before = passwords.verifications
        assert await passwords.verify("a guessed password", hashed) == (False, None)
        assert await passwords.verify("a guessed password", None) == (False, None)
        # Even the dummy hash's own password does not open an unknown account.
        assert await passwords.verify("mstack dummy password for unknown accounts", None) == (
            False,
            None,
        )
        assert passwords.verifications == before + 3
    finally:
        passwords.close()


async def test_a_corrupt_stored_hash_refuses_instead_of_crashing() -> None:
    passwords = Passwords(Settings(**FAST_PASSWORDS))
    try:
        assert await passwords.verify("a long test password", "not-a-hash") == (False, None)
    finally:
        passwords.close()
