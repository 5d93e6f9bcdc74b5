"""A spec with many mistakes, for the generator's error report."""

from mcore.records.kinds import Field, Integer, Link, ListOf, Model, Spec, Text

SPEC = Spec(
    domain="bad",
    models=[
        Model(
            "gadget",
            fields=[
                Field("ratio", float),
                Field("label", str),
                Field("name", Text()),
                Field("owner_id", Text(max_length=10)),
                Field("parts", ListOf(Link("widget"))),
                Field("size", Integer(ge=5, le=1)),
            ],
            search=["nothing.here"],
            sort=["parts"],
            examples=[{"name": 1.5}],
        ),
        Model("Gadget", fields=[]),
    ],
)
