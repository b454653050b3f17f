"""The port tool's rules, one small input each: what it rewrites, what it reports, and
that running it on its own output changes nothing (idempotence)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mongomotor.port.engine import port_paths
from mongomotor.port.report import REVIEW, REWRITTEN, Finding

MODELS = """\
from mongoengine import Document, queryset_manager
from mongoengine.fields import (
    FileField, ImageField, IntField, ListField, ReferenceField, StringField
)


class User(Document):
    name = StringField()


class Post(Document):
    title = StringField()
    author = ReferenceField(User)
    readers = ListField(ReferenceField("User"))
    likes = IntField()
    attachment = FileField()
    cover = ImageField()

    @queryset_manager
    def popular(doc_cls, queryset):
        return queryset.filter(likes__gt=10)
"""


HEAD = "from models import Post, User\n\n\n"


def port(tmp_path: Path, source: str, **modules: str) -> tuple[str, list[Finding]]:
    """Port ``app.py`` (beside ``models.py`` and any other module given); return its new
    text and every finding, after checking a second run changes nothing."""
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    if source.startswith(HEAD):
        source = HEAD + textwrap.dedent(source[len(HEAD) :])
    files = {
        "models.py": MODELS,
        "app.py": textwrap.dedent(source),
        **{f"{name}.py": textwrap.dedent(text) for name, text in modules.items()},
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    result = port_paths([folder])
    for path, text in result.changed.items():
        path.write_text(text)
    again = port_paths([folder])
    assert again.changed == {}, "a second run changed the code"
    return (folder / "app.py").read_text(), result.findings


def body(text: str) -> str:
    """The code after the import lines."""
    return text.split("\n\n\n", 1)[1] if "\n\n\n" in text else text


def reviews(findings: list[Finding]) -> list[str]:
    """Review lines, entry points aside (test inputs are full of functions nobody calls)."""
    return [
        f"{f.path.name}:{f.line} {f.message}"
        for f in findings
        if f.action == REVIEW and f.rule != "entry"
    ]


def test_imports_move_to_mongomotor_where_it_has_the_name(tmp_path):
    text, findings = port(
        tmp_path,
        """\
        from mongoengine import Document, Q, connect
        from mongoengine.errors import DoesNotExist, ValidationError
        from mongoengine.base import BaseDocument
        from mongoengine.queryset.visitor import Q as Query
    """,
    )
    assert text == (
        "from mongomotor import Document, Q, connect\n"
        "from mongomotor.exceptions import DoesNotExist, ValidationError\n"
        "from mongoengine.base import BaseDocument\n"
        "from mongomotor import Q as Query\n"
    )


def test_an_import_is_split_when_mongomotor_lacks_a_name(tmp_path):
    text, _ = port(tmp_path, "from mongoengine.queryset import QuerySet, transform\n")
    assert (
        text
        == "from mongomotor.queryset import QuerySet\nfrom mongoengine.queryset import transform\n"
    )


def test_import_mongoengine_becomes_import_mongomotor(tmp_path):
    text, _ = port(
        tmp_path,
        """\
        import mongoengine


        class Tag(mongoengine.Document):
            name = mongoengine.StringField()
    """,
    )
    assert text.startswith("import mongomotor\n\n\nclass Tag(mongomotor.Document):")


def test_import_mongoengine_is_kept_when_a_name_is_missing(tmp_path):
    text, findings = port(tmp_path, "import mongoengine as me\nbase = me.base.BaseDocument\n")
    assert text.startswith("import mongoengine as me")
    assert "kept `import mongoengine`: mongomotor has no base" in " ".join(reviews(findings))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("post.save()", "await post.save()"),
        ("post.delete()", "await post.delete()"),
        ("post.reload()", "await post.reload()"),
        ("post.modify(title='x')", "await post.modify(title='x')"),
        ("post.update(inc__likes=1)", "await post.update(inc__likes=1)"),
        ("Post.objects.get(title='x')", "await Post.objects.get(title='x')"),
        ("Post.objects(title='x').first()", "await Post.objects(title='x').first()"),
        ("Post.objects.distinct('title')", "await Post.objects.distinct('title')"),
        ("Post.objects(likes=0).delete()", "await Post.objects(likes=0).delete()"),
        (
            "Post.objects.filter(likes=0).update(inc__likes=1)",
            "await Post.objects.filter(likes=0).update(inc__likes=1)",
        ),
        ("Post.objects.in_bulk([1])", "await Post.objects.in_bulk([1])"),
        ("Post.objects.aggregate([])", "await Post.objects.aggregate([])"),
        ("Post.objects.sum('likes')", "await Post.objects.sum('likes')"),
        ("Post.drop_collection()", "await Post.drop_collection()"),
        ("Post.ensure_indexes()", "await Post.ensure_indexes()"),
        ("Post.objects[3]", "await Post.objects[3]"),
        ("Post.objects.order_by('title')[1:3]", "Post.objects.order_by('title')[1:3]"),
        ("Post.objects.count()", "await Post.objects.count()"),
        (
            "Post.objects.limit(2).count()",
            "await Post.objects.limit(2).count(with_limit_and_skip=False)",
        ),
        ("Post.objects[2:].count()", "await Post.objects[2:].count(with_limit_and_skip=False)"),
        ("Post.objects.count(True)", "await Post.objects.count(True)"),
        ("Post.popular.count()", "await Post.popular.count(with_limit_and_skip=False)"),
        ("Post.popular.first()", "await Post.popular.first()"),
        ("list(Post.objects)", "await Post.objects.to_list(None)"),
        ("len(Post.objects(likes=1))", "await Post.objects(likes=1).count()"),
        ("bool(Post.objects)", "(await Post.objects.first()) is not None"),
        ("sorted(Post.objects, key=str)", "sorted(await Post.objects.to_list(None), key=str)"),
        ("post in Post.objects", "post in await Post.objects.to_list(None)"),
        ("[p.title for p in Post.objects]", "[p.title async for p in Post.objects]"),
        ("sum(p.likes for p in Post.objects)", "sum([p.likes async for p in Post.objects])"),
        ("post.author.name", "(await post.author).name"),
        ("post.author.id", "post.author.id"),
        ("post.author == user", "post.author == user"),
        ("post.author is None", "not post.author"),
        ("post.author is not None", "bool(post.author)"),
        ("Post.objects(author=post.author)", "Post.objects(author=post.author)"),
        ("post.author.save()", "await (await post.author).save()"),
        ("post.readers[0]", "(await post.readers)[0]"),
        ("[r.name for r in post.readers]", "[r.name for r in await post.readers]"),
        ("post.attachment.read()", "await post.attachment.read()"),
        ("post.attachment.put(b'x')", "await post.attachment.put(b'x')"),
        ("post.cover.size", "await post.cover.size"),
        ("post.title.upper()", "post.title.upper()"),
        (
            "Post.objects.get(title='x').author.name",
            "(await (await Post.objects.get(title='x')).author).name",
        ),
    ],
)
def test_expressions(tmp_path, before, after):
    text, _ = port(tmp_path, HEAD + f"def use(post: Post, user: User):\n    return {before}\n")
    asynchronous = "async " if "await" in after or "async for" in after else ""
    assert body(text) == f"{asynchronous}def use(post: Post, user: User):\n    return {after}\n"


def test_statements(tmp_path):
    text, findings = port(
        tmp_path,
        HEAD
        + """\
        def report():
            posts = Post.objects.order_by("title")
            first = posts.first()
            author = first.author
            for post in posts:
                print(post.title, author.name)
            if Post.objects(likes=0):
                print("some")
            if not Post.objects(likes=1):
                print("none")
            return len(posts)
    """,
    )
    assert body(text) == textwrap.dedent("""\
        async def report():
            posts = Post.objects.order_by("title")
            first = await posts.first()
            author = await first.author
            async for post in posts:
                print(post.title, author.name)
            if (await Post.objects(likes=0).first()) is not None:
                print("some")
            if (await Post.objects(likes=1).first()) is None:
                print("none")
            return await posts.count()
    """)
    assert reviews(findings) == []


def test_async_propagates_up_the_call_graph_across_modules(tmp_path):
    text, findings = port(
        tmp_path,
        """\
        from services import Publisher


        def main():
            publisher = Publisher()
            publisher.publish("hi")
            return publisher.count_all()


        if __name__ == "__main__":
            main()
        """,
        services="""\
        from models import Post, User
        from repo import save_post


        class Publisher:
            def __init__(self):
                self.author = User(name="x")

            def publish(self, title):
                return self._store(Post(title=title, author=self.author))

            def _store(self, post):
                return save_post(post)

            def count_all(self):
                return Post.objects.count()
        """,
        repo="""\
        from models import Post


        def save_post(post: Post):
            post.author.save()
            return post.save()


        def touch(thing):
            thing.save()
        """,
    )
    assert text == textwrap.dedent("""\
        import asyncio
        from services import Publisher


        async def main():
            publisher = Publisher()
            await publisher.publish("hi")
            return await publisher.count_all()


        if __name__ == "__main__":
            asyncio.run(main())
    """)
    services = (tmp_path / "project" / "services.py").read_text()
    assert "    async def publish(self, title):\n        return await self._store(" in services
    assert "    async def _store(self, post):\n        return await save_post(post)" in services
    assert "    def __init__(self):" in services
    repo = (tmp_path / "project" / "repo.py").read_text()
    assert (
        "async def save_post(post: Post):\n"
        "    await (await post.author).save()\n    return await post.save()" in repo
    )
    # ``thing`` has no annotation: the tool cannot type it and says so.
    assert "\ndef touch(thing):\n    thing.save()\n" in repo
    assert reviews(findings) == [
        "repo.py:10 untyped receiver of .save(): await it if it is a document or QuerySet"
    ]


def test_what_cannot_become_async_is_reported_and_left_alone(tmp_path):
    source = (
        HEAD
        + """\
        class Card:
            def __init__(self, post: Post):
                self.post = post

            @property
            def likes(self) -> int:
                return self.post.reload().likes

            def __str__(self) -> str:
                return self.post.author.name


        class Draft(Post):
            def clean(self) -> None:
                self.author.reload()


        handler = lambda: Post.objects.count()
        Post.drop_collection()
    """
    )
    text, findings = port(tmp_path, source)
    assert text == HEAD + textwrap.dedent(source[len(HEAD) :])
    found = reviews(findings)
    assert any(":10 " in r and "is a property" in r for r in found), found
    assert any(":13 " in r and "special method" in r for r in found), found
    assert any(":18 " in r and "inside the bridge" in r for r in found), found
    assert any(":21 " in r and "lambda" in r for r in found), found
    assert any(":22 " in r and "module or class level" in r for r in found), found


def test_callbacks_are_reported_but_signal_receivers_are_not(tmp_path):
    _, findings = port(
        tmp_path,
        HEAD
        + """\
        from mongoengine import signals


        def on_save(sender, document, **kwargs):
            Post.objects(title=document.title).count()


        def later(callback):
            return callback


        signals.pre_save.connect(on_save, sender=Post)
        later(on_save)
    """,
    )
    assert [r.split(" ", 1)[0] for r in reviews(findings)] == ["app.py:16"]


def test_unknown_receivers_are_reported(tmp_path):
    text, findings = port(
        tmp_path,
        HEAD
        + """\
        def touch(thing):
            thing.save()
            thing.reload()
            thing.get("key")
    """,
    )
    assert "async" not in text
    assert reviews(findings) == [
        "app.py:5 untyped receiver of .save(): await it if it is a document or QuerySet",
        "app.py:6 untyped receiver of .reload(): await it if it is a document or QuerySet",
    ]


def test_generators_become_async_generators(tmp_path):
    text, _ = port(
        tmp_path,
        HEAD
        + """\
        def titles():
            for post in Post.objects:
                yield post.title


        def collect():
            return list(titles())


        def show():
            for title in titles():
                print(title)
    """,
    )
    assert body(text) == textwrap.dedent("""\
        async def titles():
            async for post in Post.objects:
                yield post.title


        async def collect():
            return [item async for item in titles()]


        async def show():
            async for title in titles():
                print(title)
    """)


def test_partly_ported_code_gets_the_awaits_it_lacks(tmp_path):
    text, _ = port(
        tmp_path,
        HEAD
        + """\
        async def load(title: str) -> Post:
            return await Post.objects.get(title=title)


        async def use():
            post = load("x")
            await post
    """,
    )
    assert '    post = await load("x")\n' in text


def test_disconnect_and_switch_db(tmp_path):
    text, _ = port(
        tmp_path,
        """\
        from mongoengine import disconnect
        from mongoengine.context_managers import switch_db
        from models import Post


        def archive():
            with switch_db(Post, "archive") as Archived:
                Archived.objects.delete()
            disconnect()
    """,
    )
    assert "        await Archived.objects.delete()\n    await disconnect()\n" in text
    assert text.startswith(
        "from mongomotor import disconnect\nfrom mongomotor.context_managers import switch_db\n"
    )


def test_decorated_functions_are_reported_when_they_become_async(tmp_path):
    _, findings = port(
        tmp_path,
        HEAD
        + """\
        import functools


        @functools.lru_cache
        def cached():
            return Post.objects.count()
    """,
    )
    assert any(
        "became async under @functools.lru_cache: check each" in r for r in reviews(findings)
    )


def test_a_generator_expression_that_cannot_be_listed_is_reported(tmp_path):
    _, findings = port(
        tmp_path,
        HEAD
        + """\
        def titles():
            return (p.title for p in Post.objects)
    """,
    )
    assert any("consumer must iterate it with async for" in r for r in reviews(findings))


def test_findings_say_what_was_rewritten(tmp_path):
    _, findings = port(tmp_path, HEAD + "def use(post: Post):\n    post.save()\n")
    lines = [
        f.line_text(tmp_path / "project")
        for f in findings
        if f.action == REWRITTEN and f.path.name == "app.py"
    ]
    assert lines == [
        "app.py:4: rewritten [async-def] use() now awaits: async def",
        "app.py:5: rewritten [await] document.save() is I/O: await",
    ]


def test_star_imports_bring_mongoengines_names(tmp_path):
    text, _ = port(
        tmp_path,
        """\
        from mongoengine import *


        class Note(Document):
            body = StringField()


        def add(body):
            Note(body=body).save()
    """,
    )
    assert text.startswith("from mongomotor import *\n")
    assert "async def add(body):\n    await Note(body=body).save()\n" in text


def test_a_method_a_framework_calls_is_reported_when_it_becomes_async(tmp_path):
    text, findings = port(
        tmp_path,
        HEAD
        + """\
        from flask_restful import Resource


        class PostApi(Resource):
            def get(self, title):
                return Post.objects.get(title=title).title
    """,
    )
    assert "    async def get(self, title):\n        return (await Post.objects.get(" in text
    assert reviews(findings) == [
        "app.py:8 get() became async in a subclass of flask_restful.Resource: "
        "check that it awaits this method"
    ]


def test_flask_mongoengine_documents_are_understood_and_reported(tmp_path):
    text, findings = port(
        tmp_path,
        """\
        from flask_mongoengine import MongoEngine

        db = MongoEngine()


        class Item(db.Document):
            name = db.StringField()


        def rename(item: Item, name: str) -> None:
            item.name = name
            item.save()
    """,
    )
    assert "async def rename(item: Item, name: str) -> None:" in text
    assert "    await item.save()\n" in text
    assert any("derive the documents from mongomotor's Document" in r for r in reviews(findings))


def test_modules_of_namespace_packages_are_found(tmp_path):
    folder = tmp_path / "project"
    (folder / "app" / "data").mkdir(parents=True)
    (folder / "app" / "__init__.py").write_text("")
    (folder / "app" / "data" / "store.py").write_text(
        "from models import Post\n\n\ndef count():\n    return Post.objects.count()\n"
    )
    text, _ = port(
        tmp_path, "from app.data import store\n\n\ndef show():\n    print(store.count())\n"
    )
    assert "async def show():\n    print(await store.count())\n" in text


def test_a_queryset_handed_to_unknown_code_is_reported(tmp_path):
    text, findings = port(
        tmp_path,
        HEAD
        + """\
        from flask import jsonify


        def listing():
            return jsonify({"result": Post.objects(likes=1)})


        def query(user: User):
            return Post.objects(author=user).order_by("title")
    """,
    )
    assert "async" not in text
    assert reviews(findings) == [
        "app.py:8 a QuerySet is handed to jsonify(): if that code iterates it, "
        "pass await qs.to_list(None)"
    ]


def test_a_queryset_given_to_an_untyped_parameter_is_reported(tmp_path):
    text, findings = port(
        tmp_path,
        HEAD
        + """\
        def titles(posts):
            return [p.title for p in posts]


        def show():
            return titles(Post.objects.order_by("title"))
    """,
    )
    assert "async" not in text
    assert reviews(findings) == [
        "app.py:9 a QuerySet is given to titles(posts=...), which has no annotation: "
        "annotate it (posts: QuerySet[...]) and run again"
    ]


def test_queryset_next_is_reported(tmp_path):
    _, findings = port(tmp_path, HEAD + "def one():\n    return Post.objects(likes=1).next()\n")
    assert [r.split(" ", 1)[0] for r in reviews(findings)] == ["app.py:5"]


def test_querysets_tested_for_truth_anywhere(tmp_path):
    text, _ = port(
        tmp_path,
        HEAD
        + """\
        def check(flag: bool):
            posts = Post.objects(likes=0)
            while posts:
                posts.delete()
            some = "yes" if posts else "no"
            if flag and posts:
                print(some)
            return flag and posts
    """,
    )
    assert body(text) == textwrap.dedent("""\
        async def check(flag: bool):
            posts = Post.objects(likes=0)
            while (await posts.first()) is not None:
                await posts.delete()
            some = "yes" if (await posts.first()) is not None else "no"
            if flag and (await posts.first()) is not None:
                print(some)
            return flag and posts
    """)


def test_an_override_that_returns_super_stays_sync_and_its_callers_await_it(tmp_path):
    text, findings = port(
        tmp_path,
        HEAD
        + """\
        class Page(Post):
            def save(self, *args, **kwargs):
                self.title = self.title.strip()
                return super().save(*args, **kwargs)

            def delete(self, *args, **kwargs):
                super().delete(*args, **kwargs)
                print("gone")


        def publish(page: Page):
            page.save()
            page.delete()
    """,
    )
    assert "    def save(self, *args, **kwargs):\n" in text
    assert "        return super().save(*args, **kwargs)\n" in text
    assert "    async def delete(self, *args, **kwargs):\n        await super().delete(" in text
    assert (
        "async def publish(page: Page):\n    await page.save()\n    await page.delete()\n" in text
    )
    assert [r.split(" ", 1)[0] for r in reviews(findings)] == ["app.py:9"]


def test_an_annotated_override_returns_a_coroutine_type(tmp_path):
    text, _ = port(
        tmp_path,
        HEAD
        + """\
        class Page(Post):
            def save(self, *args, **kwargs) -> "Page":
                return super().save(*args, **kwargs)
    """,
    )
    assert text.startswith("from collections.abc import Coroutine\nfrom typing import Any\n")
    assert '    def save(self, *args, **kwargs) -> Coroutine[Any, Any, "Page"]:\n' in text


def test_a_queryset_read_more_than_once_is_read_once_into_a_list(tmp_path):
    # MongoEngine keeps the documents of a QuerySet's first read (changes included);
    # mongomotor would query again, so the port reads once, as MongoEngine did.
    text, findings = port(
        tmp_path,
        HEAD
        + """\
        def shout(users):
            posts = Post.objects(likes=0)
            for post in posts:
                post.title = post.title.upper()
            return posts


        def each(users):
            posts = Post.objects(likes=0)
            for user in users:
                for post in posts:
                    print(user, post)


        def once():
            posts = Post.objects(likes=0)
            for post in posts:
                print(post)
            return posts.count()
    """,
    )
    assert body(text) == textwrap.dedent("""\
        async def shout(users):
            posts = await Post.objects(likes=0).to_list(None)
            for post in posts:
                post.title = post.title.upper()
            return posts


        async def each(users):
            posts = await Post.objects(likes=0).to_list(None)
            for user in users:
                for post in posts:
                    print(user, post)


        async def once():
            posts = Post.objects(likes=0)
            async for post in posts:
                print(post)
            return await posts.count()
    """)
    assert reviews(findings) == []


def test_methods_of_the_projects_own_queryset_class(tmp_path):
    text, _ = port(
        tmp_path,
        """\
        from mongoengine import Document, QuerySet, StringField


        class NoteQuerySet(QuerySet):
            def public(self):
                return self.filter(private=False)

            def count_public(self):
                return self.public().count()


        class Note(Document):
            body = StringField()
            meta = {"queryset_class": NoteQuerySet}


        def bodies(start, end):
            notes = Note.objects.public()[start:end] if start else Note.objects.public()
            for note in notes:
                print(note.body)
            return len(notes), Note.objects.count_public()
    """,
    )
    assert "    async def count_public(self):\n        return await self.public().count(" in text
    assert "    def public(self):\n" in text
    assert (
        "    notes = await (Note.objects.public()[start:end] if start else "
        "Note.objects.public()).to_list(None)\n"
        "    for note in notes:\n"
    ) in text
    assert "    return len(notes), await Note.objects.count_public()\n" in text


def test_reading_a_stored_files_attributes_is_reported(tmp_path):
    _, findings = port(
        tmp_path,
        HEAD
        + """\
        def describe(post: Post):
            return post.attachment.content_type, post.attachment.grid_id
    """,
    )
    assert [r.split(" ", 2)[:2] for r in reviews(findings)] == [["app.py:5", "reading"]]


def test_functions_nothing_calls_are_entry_points_to_check(tmp_path):
    _, findings = port(
        tmp_path,
        HEAD
        + """\
        class Middleware:
            def process_request(self, request):
                request.user = User.objects.first()


        def helper():
            return Post.objects.count()


        def used():
            return helper()
    """,
    )
    entries = [f"{f.line} {f.message}" for f in findings if f.rule == "entry"]
    assert entries == [
        "5 process_request() became async and nothing in the given paths calls it: "
        "whatever calls it must await it",
        "13 used() became async and nothing in the given paths calls it: "
        "whatever calls it must await it",
    ]
