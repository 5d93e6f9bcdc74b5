"""Domain errors know no HTTP: api.errors alone gives each its status code and title."""

import mcore.errors
from api.errors import DOMAIN_PROBLEMS, status_and_title
from mcore.auth.links import LinkRefused
from mcore.errors import DomainError, Forbidden, Invalid, NotFound


def test_every_error_class_of_mcore_has_its_own_row() -> None:
    classes = {
        value
        for value in vars(mcore.errors).values()
        if isinstance(value, type) and issubclass(value, DomainError)
    }
    assert len(classes) > 10
    assert classes - set(DOMAIN_PROBLEMS) == set()


def test_no_domain_error_carries_a_status_code() -> None:
    for cls in DOMAIN_PROBLEMS:
        assert not hasattr(cls, "status"), cls
        assert not hasattr(cls, "title"), cls


def test_statuses_and_titles() -> None:
    assert status_and_title(NotFound("gone")) == (404, "Not found")
    assert status_and_title(Invalid("no", field="x")) == (422, "Invalid input")
    assert status_and_title(LinkRefused("expired")) == (403, "Link refused")

    class Hidden(Forbidden):
        """A subclass with no row of its own takes its base's."""

    assert status_and_title(Hidden("not yours")) == (403, "Forbidden")
