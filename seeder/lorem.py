"""Plausible fake values for the generated fake-value functions (``seeder/_generated/``).

Codegen writes one function per model that asks a ``Lorem`` for each field, by the field's
kind and limits and a hint (the field's path, such as ``"name.full"`` or ``"bio"``):
titles in three forms, names, biographies, captions and alt text, URLs on example domains,
years and dates in range, tags from a vocabulary, links to records and files given to it.
Deterministic: the same seed gives the same values, with no network and a small
vocabulary of our own.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import blake3

from mstack_client.cid import DAG_CBOR, RAW, cid_from_digest

__all__ = ["Lorem"]

_FIRST = [
    "Maren",
    "Tove",
    "Ilse",
    "Oskar",
    "Jonas",
    "Signe",
    "Ebba",
    "Halvor",
    "Runa",
    "Aksel",
    "Liv",
    "Eirik",
    "Sunniva",
    "Torvald",
    "Ragna",
    "Nils",
]
_LAST = [
    "Økland",
    "Berg",
    "Lindqvist",
    "Haugen",
    "Strand",
    "Dahl",
    "Nyberg",
    "Vik",
    "Moe",
    "Solberg",
    "Aas",
    "Fjeld",
    "Brekke",
    "Lie",
]
_GROUPS = ["Studio", "Atelier", "Collective", "Workshop", "Press"]
_PLACES = [
    "Nordnes",
    "Bryggen",
    "Sandviken",
    "Fløyen",
    "Laksevåg",
    "Møhlenpris",
    "Solheim",
    "Skuteviken",
    "Årstad",
]
_NOUNS = [
    "light",
    "harbour",
    "rain",
    "boats",
    "roofs",
    "gulls",
    "fog",
    "stairs",
    "nets",
    "windows",
    "tide",
    "lanterns",
    "hills",
    "orchards",
    "quarries",
]
_ADJECTIVES = [
    "pale",
    "quiet",
    "late",
    "grey",
    "golden",
    "salt",
    "distant",
    "low",
    "bright",
    "northern",
]
_VERBS = ["paints", "photographs", "draws", "prints", "collects", "studies", "frames"]
_TIMES = ["morning", "evening", "winter", "low tide", "first snow", "midsummer", "dusk"]
_TAGS = [
    "harbour",
    "dawn",
    "portrait",
    "abstract",
    "coast",
    "city",
    "night",
    "colour",
    "study",
    "landscape",
    "interior",
    "series",
    "archive",
    "black-and-white",
]
_ROLES = ["painter", "photographer", "printmaker", "draughtsman", "editor", "designer"]
_MEDIA = [
    "oil on board",
    "acrylic on canvas",
    "gelatin silver print",
    "watercolour on paper",
    "digital photograph",
    "linocut",
    "charcoal on paper",
]
_LICENCES = ["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "All rights reserved"]
_DOMAINS = ["example.org", "example.com", "example.net"]


class Lorem:
    """Fake values from a seed. ``records`` (model name -> ids; a model of another domain
    as its spec's links name it, ``msocial.profile``) and ``files`` (CIDs) are what links
    pick from; without them, a link is a made-up canonical CID, and an optional link to
    another domain is left out (``has``)."""

    def __init__(
        self,
        seed: int | str = 0,
        *,
        records: Mapping[str, Sequence[str]] | None = None,
        files: Sequence[str] = (),
        optional: float = 0.75,
    ) -> None:
        self.rng = random.Random(f"lorem:{seed}")
        self.records = dict(records or {})
        self.files = list(files)
        self.optional = optional
        self._full = ""  # the last full title or name, which its short forms come from
        self._made = 0

    # -- shapes ----------------------------------------------------------------------------

    def maybe(self) -> bool:
        """Whether to fill an optional field."""
        return self.rng.random() < self.optional

    def count(self, max_items: int | None) -> int:
        """How many items a list gets when it is there: a few, within its limit."""
        return self.rng.randint(1, max(1, min(4, max_items or 4)))

    @staticmethod
    def unique(values: Iterable[Any]) -> list[Any]:
        """A set's items: sorted, without duplicates."""
        return sorted(set(values))

    # -- scalars ---------------------------------------------------------------------------

    def text(
        self,
        hint: str,
        *,
        max_length: int | None = None,
        min_length: int = 1,
        choices: Sequence[str] = (),
        url: bool = False,
    ) -> str:
        """Text for the field at ``hint`` (its path), within its limits."""
        if choices:
            return str(self.rng.choice(list(choices)))
        limit = max_length or 200
        if url:
            return self._url(hint, limit)
        value = unicodedata.normalize("NFC", self._words_for(hint.rsplit(".", 1)[-1], hint))
        while len(value) < min_length:
            value = f"{value} {self.rng.choice(_NOUNS)}"
        return _cut(value, limit, min_length)

    def integer(self, hint: str, *, ge: int | None = None, le: int | None = None) -> int:
        """An integer in range; a year for a field named like one."""
        low, high = (1900, 2025) if "year" in hint else (0, 1000)
        low = max(low, ge) if ge is not None else low
        high = min(high, le) if le is not None else high
        if low > high:  # the range of plausible values misses the field's: use the field's
            low = ge if ge is not None else high
            high = le if le is not None else low
        return self.rng.randint(low, high)

    def boolean(self, hint: str) -> bool:
        return self.rng.random() < 0.5

    def date(self, hint: str) -> str:
        """A day between 1990 and 2025, as ``YYYY-MM-DD``."""
        first = date(1990, 1, 1)
        return (first + timedelta(days=self.rng.randrange(36 * 365))).isoformat()

    def link(self, model: str) -> str:
        """The id of a record of ``model``: one of those given, else a made-up one."""
        pool = self.records.get(model)
        if pool:
            return str(self.rng.choice(list(pool)))
        self._made += 1
        digest = blake3.blake3(f"fake {model} {self.rng.random()}".encode()).digest()
        return cid_from_digest(digest, DAG_CBOR)

    def has(self, model: str) -> bool:
        """Whether there are records of ``model`` to link to."""
        return bool(self.records.get(model))

    def file(self, content_types: Sequence[str] = ()) -> str:
        """The CID of a file: one of those given, else a made-up one."""
        if self.files:
            return str(self.rng.choice(self.files))
        digest = blake3.blake3(f"fake file {self.rng.random()}".encode()).digest()
        return cid_from_digest(digest, RAW)

    # -- words -----------------------------------------------------------------------------

    def _name(self) -> str:
        if self.rng.random() < 0.25:
            return f"{self.rng.choice(_GROUPS)} {self.rng.choice(_PLACES)}"
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"

    def _title(self) -> str:
        r = self.rng
        forms = [
            f"{r.choice(_ADJECTIVES).capitalize()} {r.choice(_NOUNS)} over {r.choice(_PLACES)}",
            f"{r.choice(_NOUNS).capitalize()} at {r.choice(_TIMES)}",
            f"{r.choice(_PLACES)}: {r.choice(_NOUNS)} and {r.choice(_NOUNS)}",
            f"{r.choice(_NOUNS).capitalize()}, {r.choice(_PLACES)}, {r.choice(_TIMES)}",
        ]
        return r.choice(forms)

    def _sentence(self) -> str:
        r = self.rng
        return (
            f"{r.choice(_ADJECTIVES).capitalize()} {r.choice(_NOUNS)} seen from"
            f" {r.choice(_PLACES)} at {r.choice(_TIMES)}."
        )

    def _words_for(self, leaf: str, hint: str) -> str:
        r = self.rng
        if leaf == "full":
            self._full = self._name() if hint.startswith("name") else self._title()
            return self._full
        if leaf == "short":
            full = self._full or self._title()
            if hint.startswith("name"):
                return full.split()[-1]
            return full.split(":")[0].split(",")[0].split(" over ")[0].split(" at ")[0]
        if leaf == "abbreviated":
            full = self._full or self._name()
            return "".join(w[0] for w in full.replace(":", " ").split() if w[0].isalpha()).upper()
        if leaf in ("bio",):
            return (
                f"{r.choice(_VERBS).capitalize()} {r.choice(_NOUNS)} in {r.choice(_PLACES)}"
                f" since {r.randint(1970, 2020)}. {self._sentence()}"
            )
        if leaf in ("description", "about", "body", "text"):
            return f"{self._sentence()} {self._sentence()}"
        if leaf in ("caption",):
            return self._sentence()
        if leaf in ("alt",):
            return f"A {r.choice(_ADJECTIVES)} picture of {r.choice(_NOUNS)} and {r.choice(_NOUNS)}"
        if leaf in ("credits", "credit"):
            return f"Photo: {self._name()}"
        if leaf in ("tags", "tag", "keywords"):
            return str(r.choice(_TAGS))
        if leaf == "role":
            return str(r.choice(_ROLES))
        if leaf == "medium":
            return str(r.choice(_MEDIA))
        if leaf in ("licence", "license"):
            return str(r.choice(_LICENCES))
        if leaf.endswith(("number", "code")):
            return f"MST-{r.randint(1, 9999):04d}"
        if leaf in ("name", "username"):
            return self._name()
        if leaf in ("title",):
            return self._title()
        return f"{r.choice(_ADJECTIVES).capitalize()} {r.choice(_NOUNS)}"

    def _url(self, hint: str, limit: int) -> str:
        slug = "-".join(self.rng.choice(_NOUNS) for _ in range(2))
        path = hint.rsplit(".", 1)[-1].replace("_", "-")
        return _cut(f"https://{self.rng.choice(_DOMAINS)}/{path}/{slug}", limit, 1)


def _cut(value: str, limit: int, min_length: int) -> str:
    """``value`` within ``limit`` characters, cut at a word where one is near."""
    if len(value) <= limit:
        return value
    cut = value[:limit]
    space = cut.rfind(" ")
    if space >= max(min_length, limit // 2):
        cut = cut[:space]
    return cut.rstrip() if len(cut.rstrip()) >= min_length else cut
