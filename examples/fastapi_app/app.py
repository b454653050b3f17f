"""A blog API on FastAPI and mongomotor.

    make serve                                  # in memory, http://127.0.0.1:8000/docs
    MONGOMOTOR_URI=mongodb://localhost:27017 make serve

What it shows: connecting in the lifespan (``ping`` before serving,
``disconnect_all`` after), a per-request tenant database chosen by an async
dependency (``X-Tenant`` header), CRUD with filters and pagination, atomic
updates, streaming GridFS upload and download, an aggregation, and
MongoEngine's errors mapped to HTTP statuses.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

import mongomotor
from mongomotor import DoesNotExist, GridFS, ValidationError

from .models import Attachment, Comment, Post

UPLOAD_LIMIT = 64 * 1024 * 1024
TENANT = re.compile(r"[a-z][a-z0-9]{0,19}")


@dataclass
class MongoConfig:
    """Where the app's data lives: ``connect()`` settings and the main database's name.

    Tenant ``acme`` gets the database ``<db>_acme`` on the same server.
    """

    db: str = "blog"
    settings: dict[str, Any] = field(default_factory=dict[str, Any])

    @classmethod
    def from_environment(cls) -> MongoConfig:
        settings: dict[str, Any] = {
            "host": os.environ.get("MONGOMOTOR_URI", "mongomock://localhost"),
            "uuidRepresentation": "standard",
        }
        if os.environ.get("MONGOMOTOR_DRIVER"):
            settings["driver"] = os.environ["MONGOMOTOR_DRIVER"]
        return cls(os.environ.get("MONGOMOTOR_DB", "blog"), settings)


# -- request and response shapes -------------------------------------------------
class PostIn(BaseModel):
    title: str
    author: str
    body: str = ""
    tags: list[str] = []


class PostPatch(BaseModel):
    title: str | None = None
    body: str | None = None
    tags: list[str] | None = None


class CommentIn(BaseModel):
    author: str
    text: str


def post_out(post: Post) -> dict[str, Any]:
    attachment = post.attachment
    return {
        "id": str(post.id),
        "title": post.title,
        "author": post.author,
        "body": post.body,
        "tags": list(post.tags),
        "likes": post.likes,
        "comments": [{"author": c.author, "text": c.text} for c in post.comments],
        "attachment": None
        if attachment is None
        else {
            "filename": attachment.filename,
            "content_type": attachment.content_type,
            "length": attachment.length,
        },
    }


# -- the app ------------------------------------------------------------------------
async def tenant(
    request: Request, x_tenant: Annotated[str | None, Header()] = None
) -> AsyncIterator[str]:
    """Run the request on the tenant's database (``X-Tenant: acme``), else the main one.

    ``switch_db`` is task-local: requests served at the same time never see
    each other's tenant.
    """
    if x_tenant is None:
        yield "default"
        return
    if not TENANT.fullmatch(x_tenant):
        raise HTTPException(400, "X-Tenant must be 1-20 lowercase letters or digits")
    alias = f"tenant-{x_tenant}"
    state = request.app.state
    if alias not in state.tenants:
        settings = {k: v for k, v in state.config.settings.items() if k not in ("db", "alias")}
        mongomotor.register_connection(alias, db=f"{state.config.db}_{x_tenant}", **settings)
        state.tenants.add(alias)
    async with mongomotor.switch_db(Post, alias):
        yield alias


Alias = Annotated[str, Depends(tenant)]


def create_app(config: MongoConfig | None = None, *, manage_connection: bool = True) -> FastAPI:
    """The API; with ``manage_connection=False`` the caller connects ``default`` (tests do).

        app = create_app(MongoConfig("blog", {"host": "mongodb://localhost:27017"}))
    """
    config = config or MongoConfig.from_environment()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[None, None]:
        if manage_connection:
            mongomotor.connect(config.db, **config.settings)
        try:
            app.state.mongodb_version = await mongomotor.ping(timeout=10.0)
            yield
        finally:
            if manage_connection:
                await mongomotor.disconnect_all()

    app = FastAPI(title="mongomotor blog", lifespan=lifespan)
    app.state.config = config
    app.state.tenants = set()

    @app.exception_handler(DoesNotExist)
    async def not_found(request: Request, exc: DoesNotExist) -> JSONResponse:
        return JSONResponse({"detail": str(exc) or "not found"}, status_code=404)

    @app.exception_handler(ValidationError)
    async def invalid(request: Request, exc: ValidationError) -> JSONResponse:
        return JSONResponse({"detail": exc.to_dict() or str(exc)}, status_code=422)


    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"mongodb": ".".join(map(str, app.state.mongodb_version))}

    @app.post("/posts", status_code=201)
    async def create_post(data: PostIn, alias: Alias) -> dict[str, Any]:
        post = await Post(**data.model_dump()).save()
        return post_out(post)

    @app.get("/posts")
    async def list_posts(
        alias: Alias,
        tag: str | None = None,
        author: str | None = None,
        min_likes: Annotated[int, Query(ge=0)] = 0,
        page: Annotated[int, Query(ge=1)] = 1,
        per_page: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        if tag:
            filters["tags"] = tag
        if author:
            filters["author"] = author
        if min_likes:
            filters["likes__gte"] = min_likes
        posts = Post.objects(**filters)
        total = await posts.count()
        page_of = posts.order_by("-created", "-id").skip((page - 1) * per_page).limit(per_page)
        return {
            "total": total,
            "page": page,
            "per_page": per_page,
            "items": [post_out(p) async for p in page_of],
        }

    @app.get("/posts/{post_id}")
    async def get_post(post_id: str, alias: Alias) -> dict[str, Any]:
        return post_out(await Post.objects.get(id=post_id))

    @app.patch("/posts/{post_id}")
    async def update_post(post_id: str, data: PostPatch, alias: Alias) -> dict[str, Any]:
        post = await Post.objects.get(id=post_id)
        for name, value in data.model_dump(exclude_unset=True).items():
            setattr(post, name, value)
        await post.save()  # validates first: a bad value is a 422, nothing is written
        return post_out(post)

    @app.delete("/posts/{post_id}", status_code=204)
    async def delete_post(post_id: str, alias: Alias) -> Response:
        post = await Post.objects.get(id=post_id)
        if post.attachment is not None:
            await GridFS(alias, "attachments").delete(post.attachment.file_id)
        await post.delete()
        return Response(status_code=204)

    @app.post("/posts/{post_id}/like")
    async def like(post_id: str, alias: Alias) -> dict[str, int]:
        # One atomic round trip: concurrent likes never overwrite each other.
        post = await Post.objects(id=post_id).only("likes").modify(inc__likes=1, new=True)
        if post is None:
            raise Post.DoesNotExist(f"no post {post_id}")
        return {"likes": post.likes}

    @app.post("/posts/{post_id}/comments", status_code=201)
    async def comment(post_id: str, data: CommentIn, alias: Alias) -> dict[str, Any]:
        new = Comment(**data.model_dump())
        new.validate()
        if not await Post.objects(id=post_id).update_one(push__comments=new):
            raise Post.DoesNotExist(f"no post {post_id}")
        return post_out(await Post.objects.get(id=post_id))

    @app.put("/posts/{post_id}/attachment")
    async def upload(
        post_id: str, request: Request, alias: Alias, filename: str = "attachment"
    ) -> dict[str, Any]:
        """Stream the request body into GridFS, one piece at a time (never whole in memory)."""
        post = await Post.objects.get(id=post_id)
        content_type = request.headers.get("content-type", "application/octet-stream")
        fs = GridFS(alias, "attachments")
        grid_in = fs.new_file(filename=filename)
        length = 0
        try:
            async for piece in request.stream():
                length += len(piece)
                if length > UPLOAD_LIMIT:
                    raise HTTPException(413, f"attachments are limited to {UPLOAD_LIMIT} bytes")
                await grid_in.write(piece)
        except BaseException:
            await grid_in.abort()
            raise
        await grid_in.close()
        old = post.attachment
        post.attachment = Attachment(
            file_id=grid_in._id,  # pyright: ignore[reportPrivateUsage]  (PyMongo's name)
            filename=filename, content_type=content_type, length=length
        )
        await post.save()
        if old is not None:
            await fs.delete(old.file_id)
        return post_out(post)

    @app.get("/posts/{post_id}/attachment")
    async def download(post_id: str, alias: Alias) -> StreamingResponse:
        """Stream the file back one GridFS chunk at a time."""
        post = await Post.objects.get(id=post_id)
        if post.attachment is None:
            raise HTTPException(404, "this post has no attachment")
        gridout = await GridFS(alias, "attachments").get(post.attachment.file_id)
        return StreamingResponse(
            gridout,
            media_type=post.attachment.content_type,
            headers={
                "Content-Disposition": f'attachment; filename="{post.attachment.filename}"',
                "Content-Length": str(post.attachment.length),
            },
        )

    @app.get("/stats/tags")
    async def tag_stats(alias: Alias) -> list[dict[str, Any]]:
        """Posts and likes per tag, most used first (an aggregation pipeline)."""
        cursor = await Post.objects.aggregate(
            [
                {"$unwind": "$tags"},
                {"$group": {"_id": "$tags", "posts": {"$sum": 1}, "likes": {"$sum": "$likes"}}},
                {"$sort": {"posts": -1, "_id": 1}},
            ]
        )
        return [
            {"tag": row["_id"], "posts": row["posts"], "likes": row["likes"]}
            async for row in cursor
        ]

    return app


app = create_app()
