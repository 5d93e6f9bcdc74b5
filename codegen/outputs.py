"""The table of generated outputs: each a template rendered to a destination, or the
synchronous twin of a hand-written asyncio module.

Adding an output kind (SDK classes, CLI groups, fake values, web pages) is adding a
template and a row here. ``{domain}`` in a destination is the spec's domain. A ``spec``
output is rendered once per spec with ``view``; a ``project`` output once over all specs
with ``views``. The generator owns each destination's folder whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from codegen.unasync import Unasync


@dataclass(frozen=True)
class Output:
    template: str
    destination: str
    scope: Literal["spec", "project"] = "spec"


CLIENT = "client/mstack_client/_generated/"

OUTPUTS: tuple[Output, ...] = (
    Output("package_init.py.j2", "{domain}/_generated/__init__.py"),
    Output("models.py.j2", "{domain}/_generated/models.py"),
    Output("ops.py.j2", "{domain}/_generated/ops.py"),
    Output("routes.py.j2", "api/_generated/{domain}_routes.py"),
    Output("pages.py.j2", "api/_generated/{domain}_pages.py"),
    Output("routes_index.py.j2", "api/_generated/__init__.py", scope="project"),
    # what widgets may name (msocial's `art.artists.list(...)`): every model's list and read
    Output("widget_targets.py.j2", "api/_generated/widgets.py", scope="project"),
    # the client distribution: its SDK part (typed classes per model) and its CLI part
    # (command groups per model), which imports the SDK and is never imported by it
    Output("client_package.py.j2", CLIENT + "__init__.py", scope="project"),
    Output("client_sdk.py.j2", CLIENT + "sdk/{domain}.py"),
    Output("client_sdk_index.py.j2", CLIENT + "sdk/__init__.py", scope="project"),
    Output("client_cli.py.j2", CLIENT + "cli/{domain}.py"),
    Output("client_cli_index.py.j2", CLIENT + "cli/__init__.py", scope="project"),
    # the seeder's fake values of each model (it may import the SDK and these alone)
    Output("seeder_fakes.py.j2", "seeder/_generated/{domain}.py"),
    Output("seeder_fakes_index.py.j2", "seeder/_generated/__init__.py", scope="project"),
)

UNASYNC: tuple[Unasync, ...] = (
    # the synchronous client, written from the asyncio one (each rendered where its source
    # is in the project: the generator's own test projects have none)
    Unasync("client/mstack_client/aclient.py", CLIENT + "sdk/client.py"),
    Unasync("client/mstack_client/asharing.py", CLIENT + "sdk/sharing.py"),
)
