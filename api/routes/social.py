"""msocial's hand-written routes: follows, reactions, feeds, and widgets. The models'
own CRUD is generated (``api/_generated/msocial_routes.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from pydantic import ValidationError
from sqlmodel import SQLModel

from api._generated.widgets import TARGETS
from api.deps import CurrentActor, Session
from api.openapi import doc
from mcore.errors import Invalid
from msocial import social
from msocial._generated.models import PostPage
from msocial.widgets import Widget, WidgetError, parse

ProfileId = Annotated[str, PathParameter(description="The profile's id")]
PostId = Annotated[str, PathParameter(description="The post's id")]
Cursor = Annotated[str | None, QueryParameter(description="From the last page's `next`")]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page")]
Tag = Annotated[str | None, QueryParameter(description="Only posts with this tag")]


class ProfilesSocialController(Controller):
    path = "/api/v1/profiles"
    tags = ["social"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        "/{profile_id:str}/follow",
        status_code=200,
        summary="Follow a profile",
        opt=doc("profiles_follow", 403, request_examples=[{"profile": "bafyr4i..."}]),
    )
    async def follow(
        self,
        session: Session,
        actor: CurrentActor,
        profile_id: ProfileId,
        data: JSONBody[social.FollowRequest],
    ) -> social.FollowCounts:
        """Your profile `profile` follows this one; following again changes nothing."""
        return await social.follow(session, actor=actor, profile_id=profile_id, data=data)

    @post(
        "/{profile_id:str}/unfollow",
        status_code=200,
        summary="Stop following a profile",
        opt=doc("profiles_unfollow", 403),
    )
    async def unfollow(
        self,
        session: Session,
        actor: CurrentActor,
        profile_id: ProfileId,
        data: JSONBody[social.FollowRequest],
    ) -> social.FollowCounts:
        """Your profile `profile` no longer follows this one."""
        return await social.unfollow(session, actor=actor, profile_id=profile_id, data=data)

    @get("/{profile_id:str}/follows", summary="Follower counts", opt=doc("profiles_follows"))
    async def follows(
        self, session: Session, actor: CurrentActor, profile_id: ProfileId
    ) -> social.FollowCounts:
        """How many profiles follow it and how many it follows."""
        return await social.follow_counts(session, actor=actor, profile_id=profile_id)


class FeedsController(Controller):
    path = "/api/v1/feeds"
    tags = ["social"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @get(
        "/profile/{profile_id:str}",
        summary="A profile's posts",
        opt=doc("feeds_profile", guests=True),
    )
    async def profile_feed(
        self,
        session: Session,
        actor: CurrentActor,
        profile_id: ProfileId,
        tag: Tag = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> PostPage:
        """Newest first, those you may read."""
        return await social.profile_feed(
            session, actor=actor, profile_id=profile_id, tag=tag, cursor=cursor, limit=limit
        )

    @get(
        "/following/{profile_id:str}",
        summary="What your profile follows",
        opt=doc("feeds_following", 403),
    )
    async def following_feed(
        self,
        session: Session,
        actor: CurrentActor,
        profile_id: ProfileId,
        tag: Tag = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> PostPage:
        """The posts of the profiles your profile follows, newest first."""
        return await social.following_feed(
            session, actor=actor, profile_id=profile_id, tag=tag, cursor=cursor, limit=limit
        )

    @get(
        "/group/{profile_group_id:str}",
        summary="A profile group's posts",
        opt=doc("feeds_group", guests=True),
    )
    async def group_feed(
        self,
        session: Session,
        actor: CurrentActor,
        profile_group_id: Annotated[str, PathParameter(description="The profile group's id")],
        tag: Tag = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> PostPage:
        """The posts of its member profiles, newest first."""
        return await social.group_feed(
            session,
            actor=actor,
            profile_group_id=profile_group_id,
            tag=tag,
            cursor=cursor,
            limit=limit,
        )


class ReactionsController(Controller):
    path = "/api/v1/posts"
    tags = ["social"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @get(
        "/{post_id:str}/reactions",
        summary="A post's reaction counts",
        opt=doc("posts_reactions", guests=True),
    )
    async def reactions(
        self, session: Session, actor: CurrentActor, post_id: PostId
    ) -> social.ReactionCounts:
        """Counts per kind, kept as reactions come and go (no scan)."""
        return await social.post_reactions(session, actor=actor, post_id=post_id)

    @post(
        "/{post_id:str}/reactions",
        status_code=200,
        summary="React to a post",
        opt=doc("posts_react", 403, request_examples=[{"profile": "bafyr4i...", "kind": "like"}]),
    )
    async def react(
        self,
        session: Session,
        actor: CurrentActor,
        post_id: PostId,
        data: JSONBody[social.ReactionRequest],
    ) -> social.ReactionCounts:
        """As your profile `profile`; the same reaction again changes nothing."""
        return await social.react(session, actor=actor, post_id=post_id, data=data, on=True)

    @delete(
        "/{post_id:str}/reactions",
        status_code=200,
        summary="Take a reaction back",
        opt=doc("posts_unreact", 403),
    )
    async def unreact(
        self,
        session: Session,
        actor: CurrentActor,
        post_id: PostId,
        profile: Annotated[str, QueryParameter(description="Your profile that reacted")],
        kind: Annotated[social.Reaction_, QueryParameter(description="The reaction")] = "like",
    ) -> social.ReactionCounts:
        """Your profile `profile` takes its reaction `kind` back; no such reaction changes
        nothing."""
        data = social.ReactionRequest(profile=profile, kind=kind)
        return await social.react(session, actor=actor, post_id=post_id, data=data, on=False)


class WidgetResult(SQLModel):
    expr: str
    items: list[dict[str, Any]]


def _sort_param(target: dict[str, Any], sort: str) -> str:
    wanted = sort.replace(".", "_")
    if wanted.lstrip("-") not in target["sorts"]:
        known = ", ".join(s.replace("_", ".") for s in target["sorts"])
        raise Invalid(f"cannot sort by {sort.lstrip('-')!r}: choose one of {known}", field="expr")
    return wanted


def _filter_param(target: dict[str, Any], name: str) -> str:
    for candidate in (name, name.replace(".", "_"), f"{name}s"):
        if candidate in target["filters"]:
            return candidate
    known = ", ".join(target["filters"]) or "none"
    raise Invalid(f"{name!r} is not a filter of this list (filters: {known})", field="expr")


async def render_widget(session: Any, actor: Any, widget: Widget) -> list[dict[str, Any]]:
    """Run a widget with the viewer's own permissions, through the generated op that the
    lookup table names; ``Invalid`` for a name it does not know."""
    target = TARGETS.get((widget.domain, widget.collection))
    if target is None:
        raise Invalid(
            f"{widget.domain}.{widget.collection} is not something widgets show", field="expr"
        )
    if widget.op == "get":
        read = await target["get"](session, actor=actor, **{target["id_param"]: widget.id})
        return [read.model_dump(mode="json")]
    kwargs: dict[str, Any] = {"limit": widget.limit}
    for name, value in widget.args.items():
        if name == "limit":
            continue
        if name == "sort":
            kwargs["sort"] = _sort_param(target, str(value))
        else:
            kwargs[_filter_param(target, name)] = value
    try:
        page = await target["list"](session, actor=actor, **kwargs)
    except (TypeError, ValidationError):
        raise Invalid("an argument of this widget has the wrong type", field="expr") from None
    return [item.model_dump(mode="json") for item in page.items]


class WidgetsController(Controller):
    path = "/api/v1/widgets"
    tags = ["social"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @get("/render", summary="Run a widget", opt=doc("widgets_render", guests=True))
    async def render(
        self,
        session: Session,
        actor: CurrentActor,
        expr: Annotated[
            str,
            QueryParameter(
                description="A widget in seed 001's syntax, such as"
                ' `art.artists.list(sort="name.full", limit=6)` or'
                " `art.artists.id = 'bafyr4i...'`",
                max_length=500,
            ),
        ],
    ) -> WidgetResult:
        """What it shows for you (your permissions; at most 50 items): 422 for an
        expression that does not parse or names something unknown, 404 for an id you
        may not read."""
        try:
            widget = parse(expr)
        except WidgetError as exc:
            raise Invalid(f"not a widget: {exc}", field="expr") from None
        return WidgetResult(expr=expr, items=await render_widget(session, actor, widget))
