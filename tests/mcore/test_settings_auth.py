import pytest
from pydantic import ValidationError

from mcore.settings import DEV_LINK_KEY, DEV_TOKEN_KEY, Settings

STRONG = "s" * 48


def test_development_accepts_its_default_keys() -> None:
    settings = Settings()
    assert settings.token_keys["dev"].get_secret_value() == DEV_TOKEN_KEY
    assert settings.link_keys["dev"].get_secret_value() == DEV_LINK_KEY


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({}, "token_keys"),
        ({"token_keys": {"p1": STRONG}, "token_key_id": "p1"}, "link_keys"),
        (
            {"link_keys": {"p1": STRONG}, "link_key_id": "p1"},
            "token_keys",
        ),
        # a retired development key left in the list is refused too
        (
            {
                "token_keys": {"p1": STRONG, "dev": DEV_TOKEN_KEY},
                "token_key_id": "p1",
                "link_keys": {"p1": STRONG},
                "link_key_id": "p1",
            },
            "token_keys['dev']",
        ),
    ],
)
def test_production_refuses_development_keys(given: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(mode="production", **given)
    message = str(caught.value)
    assert field in message
    assert "development default" in message


def test_production_with_its_own_keys() -> None:
    settings = Settings(
        mode="production",
        token_keys={"p1": STRONG},
        token_key_id="p1",
        link_keys={"p1": STRONG},
        link_key_id="p1",
    )
    assert settings.mode == "production"


def test_short_keys_and_unknown_key_ids_are_refused_without_echoing_them() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(token_keys={"k": "tiny-secret-value"}, token_key_id="k")
    assert "shorter than 32" in str(caught.value)
    assert "tiny-secret-value" not in str(caught.value)
    with pytest.raises(ValidationError, match="no key with the id 'k2'"):
        Settings(link_keys={"k": STRONG}, link_key_id="k2")


def test_keys_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("MSTACK_TOKEN_KEYS", '{"env1": "' + STRONG + '"}')
    monkeypatch.setenv("MSTACK_TOKEN_KEY_ID", "env1")
    settings = Settings()
    assert settings.token_keys["env1"].get_secret_value() == STRONG
    assert STRONG not in repr(settings)
