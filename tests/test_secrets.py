"""A password given in the URI or as ``password=`` appears in no repr, log record or error."""

from __future__ import annotations

import logging
import traceback
import warnings

import mongoengine.connection as me_connection
import pytest

import mongomotor
from mongomotor import Document
from mongomotor.fields import StringField
from tests.conftest import WIRE_LANES
from tests.support.server import free_port

SECRET = "s3cr3t-Pa55"
wire_only = pytest.mark.parametrize("lane", WIRE_LANES, indirect=True)


class SecretDoc(Document):
    name = StringField()
    meta = {"db_alias": "secret"}


def with_password(uri: str) -> str:
    scheme, rest = uri.split("://", 1)
    return f"{scheme}://alice:{SECRET}@{rest}"


def closed_port_uri() -> str:
    return f"mongodb://127.0.0.1:{free_port()}"  # nothing listens there


def everything_said(exc: BaseException) -> str:
    """The whole chained traceback, as a log handler or an error page shows it."""
    text = "".join(traceback.format_exception(exc))
    details = getattr(exc, "details", None)
    return f"{text}\n{exc!r}\n{details!r}"


def reprs(alias: str) -> list[str]:
    facade = me_connection.get_connection(alias)
    facade_db = me_connection.get_db(alias)
    return [
        repr(facade),
        repr(facade_db),
        repr(facade_db["secret_doc"]),
        repr(facade_db["secret_doc"].find()),
        repr(mongomotor.get_connection(alias)),
        repr(mongomotor.get_db(alias)),
    ]


@pytest.fixture
def said(caplog):
    """Everything logged (any logger, any level) while the test runs, with warnings."""
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        yield caplog, warned


def assert_never_said(texts, said) -> None:
    caplog, warned = said
    logged = [
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''} {getattr(r, 'message', '')}"
        for r in caplog.records
    ]
    for text in [*texts, *logged, *(str(w.message) for w in warned)]:
        assert SECRET not in text, f"the password leaked in: {text[:300]}"


def connect_secret(lane, host: str, given_as: str, **options: object) -> None:
    options.setdefault("uuidRepresentation", "standard")
    if given_as == "uri":
        host = with_password(host)
    else:
        options.update(username="alice", password=SECRET)
    mongomotor.connect(
        f"{lane.db_name}_secret", alias="secret", host=host, driver=lane.driver, **options
    )


@pytest.mark.parametrize("given_as", ["uri", "password="])
async def test_password_is_in_no_repr(lane, said, given_as):
    connect_secret(lane, lane.host, given_as)
    texts = reprs("secret")
    assert any("secret" in t or "alice" in t or "client" in t for t in texts)
    assert_never_said(texts, said)


@wire_only  # the in-memory driver selects no server
@pytest.mark.parametrize("given_as", ["uri", "password="])
async def test_server_selection_error_hides_the_password(lane, said, given_as):
    connect_secret(lane, closed_port_uri(), given_as, serverSelectionTimeoutMS=200)
    with pytest.raises(Exception) as raised:
        await SecretDoc.objects.first()
    assert "127.0.0.1" in str(raised.value)  # the error says where it looked
    assert_never_said([everything_said(raised.value), *reprs("secret")], said)


@wire_only  # the in-memory driver does not authenticate
@pytest.mark.parametrize("given_as", ["uri", "password="])
async def test_authentication_error_hides_the_password(lane, said, given_as):
    # The test server has no user alice: the handshake fails, however it fails.
    connect_secret(lane, lane.host, given_as, serverSelectionTimeoutMS=1000)
    with pytest.raises(Exception) as raised:
        await SecretDoc(name="x").save()
    assert_never_said([everything_said(raised.value), *reprs("secret")], said)


@wire_only  # mongomock:// URIs are not parsed as MongoDB URIs
@pytest.mark.parametrize(
    "tail",
    [":notaport/db", ":99999/db", "/db?authMechanism=BOGUS", "/db?unknownOption=1"],
)
async def test_invalid_uri_errors_hide_the_password(lane, said, tail):
    host = with_password("mongodb://127.0.0.1") + tail
    with pytest.raises(Exception) as raised:
        mongomotor.connect("db", alias="secret", host=host, driver=lane.driver)
        await SecretDoc.objects.first()
    assert_never_said([everything_said(raised.value)], said)
