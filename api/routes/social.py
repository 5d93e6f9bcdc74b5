"""msocial's hand-written routes: follows, reactions, feeds, and widgets. The models'
own CRUD is generated (``api/_generated/msocial_routes.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, delete, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import CurrentActor, Session
from api.openapi import doc
from api.widgets import (
    RENDERED_PAGE,
    RenderedPost,
    RenderedPostPage,
    WidgetResult,
    parse_expr,
    render_post,
    render_widget,
)
from mcore.access import Actor
from msocial import social
from msocial._generated.models import PostPage
from msocial._generated.ops import get_post

ProfileId = Annotated[str, PathParameter(description="The profile's id")]
PostId = Annotated[str, PathParameter(description="The post's id")]
Cursor = Annotated[str | None, QueryParameter(description="From the last page's `next`")]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Items per page")]
Tag = Annotated[str | None, QueryParameter(description="Only posts with this tag")]
Render = Annotated[
    bool,
    QueryParameter(
        description="Also give each post's `text_html` and `widgets_rendered` (run for you);"
        f" a page then holds at most {RENDERED_PAGE} posts"
    ),
]


async def _feed(
    session: AsyncSession,
    actor: Actor,
    read: Callable[..., Awaitable[PostPage]],
    *,
    render: bool,
    limit: int,
    **args: Any,
) -> RenderedPostPage:
    """A feed's page as it is answered, from ``read`` (a feed op of ``msocial.social``):
    with ``render``, at most ``RENDERED_PAGE`` posts, each rendered for the viewer."""
    found = await read(
        session, actor=actor, limit=min(limit, RENDERED_PAGE) if render else limit, **args
    )
    if render:
        items = [await render_post(session, actor, item) for item in found.items]
    else:
        items = [RenderedPost.model_construct(**dict(item)) for item in found.items]
    return RenderedPostPage(items=items, next=found.next)


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
        data: JSONBody[social.FollowRequest | None] = None,
    ) -> social.FollowCounts:
        """Your profile `profile` follows this one (no body: your only profile);
        following again changes nothing."""
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
        data: JSONBody[social.FollowRequest | None] = None,
    ) -> social.FollowCounts:
        """Your profile `profile` (no body: your only profile) no longer follows this one."""
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
        "/profiles/{profile_id:str}",
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
        render: Render = False,
    ) -> RenderedPostPage:
        """Newest first, those you may read."""
        return await _feed(
            session,
            actor,
            social.profile_feed,
            profile_id=profile_id,
            tag=tag,
            cursor=cursor,
            render=render,
            limit=limit,
        )

    @get("/following", summary="What your profiles follow", opt=doc("feeds_following_mine"))
    async def my_following_feed(
        self,
        session: Session,
        actor: CurrentActor,
        tag: Tag = None,
        cursor: Cursor = None,
        limit: Limit = 50,
        render: Render = False,
    ) -> RenderedPostPage:
        """The posts of every profile that a profile of yours follows, newest first (an
        account with one profile: that profile's following feed)."""
        return await _feed(
            session,
            actor,
            social.account_following_feed,
            tag=tag,
            cursor=cursor,
            render=render,
            limit=limit,
        )

    @get(
        "/following/{profile_id:str}",
        summary="What one profile of yours follows",
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
        render: Render = False,
    ) -> RenderedPostPage:
        """The posts of the profiles your profile follows, newest first."""
        return await _feed(
            session,
            actor,
            social.following_feed,
            profile_id=profile_id,
            tag=tag,
            cursor=cursor,
            render=render,
            limit=limit,
        )

    @get(
        "/groups/{profile_group_id:str}",
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
        render: Render = False,
    ) -> RenderedPostPage:
        """The posts of its member profiles, newest first."""
        return await _feed(
            session,
            actor,
            social.group_feed,
            profile_group_id=profile_group_id,
            tag=tag,
            cursor=cursor,
            render=render,
            limit=limit,
        )


class ReactionsController(Controller):
    path = "/api/v1/posts"
    tags = ["social"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @get(
        "/{post_id:str}/rendered",
        summary="A post rendered for you",
        opt=doc("posts_rendered", guests=True),
    )
    async def rendered(
        self, session: Session, actor: CurrentActor, post_id: PostId
    ) -> RenderedPost:
        """The post as `GET /api/v1/posts/{id}` reads it, plus `text_html` (its Markdown as
        safe HTML: no raw HTML, links only http, https, mailto or relative) and
        `widgets_rendered`: each widget run with your permissions, `{expr, type, items}`,
        or `{expr, error: {status, detail}}` in its place when you may not see it."""
        read = await get_post(session, actor=actor, post_id=post_id)
        return await render_post(session, actor, read)

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
        widget = parse_expr(expr)
        return WidgetResult(expr=expr, items=await render_widget(session, actor, widget))
