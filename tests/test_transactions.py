"""Sessions and transactions that every operation of the task joins by itself."""

from __future__ import annotations

import asyncio

import mongoengine
import pytest
from pymongo import monitoring
from pymongo.errors import OperationFailure, PyMongoError

import mongomotor
from mongomotor import Document, run_in_transaction, run_transaction, start_session
from mongomotor.fields import IntField, ReferenceField, StringField
from mongomotor.odm import transactions as sessions
from mongomotor.odm.transactions import (
    TransactionsNotSupported,
    current_session,
    transactional,
)


class TxAccount(Document):
    name = StringField(required=True)
    balance = IntField(default=0)


class TxAuthor(Document):
    name = StringField()


class TxBook(Document):
    title = StringField()
    author = ReferenceField(TxAuthor, reverse_delete_rule=mongoengine.CASCADE)


class TxCappedLog(Document):
    """Preparing a capped collection reads the catalog (listCollections) and creates it.

    (MongoDB refuses writes to capped collections in transactions, not reads.)
    """

    line = StringField()
    meta = {"max_documents": 10, "max_size": 4096}


async def names() -> list[str]:
    return sorted(a.name for a in await TxAccount.objects.to_list(None))


@pytest.fixture
async def seeded(lane):
    # Collections are created outside transactions, as MongoDB prefers.
    await TxAccount(name="seed").save()
    return lane


@pytest.fixture
def trust_server_transactions(monkeypatch):
    """Run transactions on a server that can (probed) but says it is standalone.

    Used only by the tests of the retry loop, which inject their errors.
    """

    async def allowed(alias: str = "default") -> None:
        return None

    monkeypatch.setattr(sessions, "require_transactions", allowed)


def labelled(label: str) -> PyMongoError:
    return PyMongoError(f"injected {label}", error_labels=[label])


def fail_commit_once(session, error: PyMongoError, abort_first: bool) -> list[int]:
    """Make the session's next commit fail once (after aborting, like a server would)."""
    real_commit, real_abort = session.commit_transaction, session.abort_transaction
    calls: list[int] = []

    async def commit():
        calls.append(1)
        if len(calls) == 1:
            if abort_first:
                await real_abort()
            raise error
        return await real_commit()

    session.commit_transaction = commit
    return calls


# -- on a server that runs transactions (a replica set) ---------------------------
# "replica_set": mongomotor refuses transactions unless hello says so;
# "transactions": the server really commits and aborts them.
@pytest.mark.requires("replica_set", "transactions")
async def test_commit_on_normal_exit(seeded):
    async with run_in_transaction():
        await TxAccount(name="a").save()
        await TxAccount(name="b").save()
        assert await TxAccount.objects.count() == 3  # the transaction sees its writes
    assert await names() == ["a", "b", "seed"]


@pytest.mark.requires("replica_set", "transactions")
async def test_abort_on_exception_writes_nothing(seeded):
    with pytest.raises(ValueError):
        async with run_in_transaction():
            await TxAccount(name="a").save()
            await TxAccount.objects(name="seed").update(set__balance=5)
            raise ValueError("changed my mind")
    assert await names() == ["seed"]
    assert (await TxAccount.objects.get(name="seed")).balance == 0


@pytest.mark.requires("replica_set", "transactions", "reference_queries")
async def test_cascade_delete_inside_a_transaction_is_rolled_back(lane):
    author = await TxAuthor(name="ann").save()
    await TxBook(title="one", author=author).save()
    await TxBook(title="two", author=author).save()
    with pytest.raises(RuntimeError):
        async with run_in_transaction():
            await author.delete()
            assert await TxBook.objects.count() == 0  # the delete rule ran in the txn
            raise RuntimeError("roll back")
    assert await TxAuthor.objects.count() == 1
    assert await TxBook.objects.count() == 2


@pytest.mark.requires("replica_set", "concurrent_transactions")
async def test_concurrent_transactions_have_their_own_sessions(seeded):
    both_inside = asyncio.Event()
    used = []

    async def work(name: str, fail: bool) -> None:
        async with run_in_transaction():
            used.append(current_session())
            await TxAccount(name=name).save()
            if len(used) == 2:
                both_inside.set()
            await both_inside.wait()
            if fail:
                raise LookupError(name)

    results = await asyncio.gather(
        work("kept", False), work("dropped", True), return_exceptions=True
    )
    assert results[0] is None and isinstance(results[1], LookupError)
    assert used[0] is not used[1]
    assert await names() == ["kept", "seed"]


# -- on every lane ------------------------------------------------------------------
async def test_transactions_need_a_replica_set(seeded):
    ran = []
    if seeded.supports("replica_set"):
        async with run_in_transaction():
            ran.append(await TxAccount(name="in").save())
        assert await names() == ["in", "seed"]
        return
    with pytest.raises(TransactionsNotSupported, match="replica set"):
        async with run_in_transaction():
            ran.append(await TxAccount(name="in").save())
    with pytest.raises(TransactionsNotSupported, match="replica set"):
        await run_transaction(TxAccount(name="fn").save)
    assert ran == []
    assert await names() == ["seed"]


async def test_start_session_yields_the_task_session(seeded):
    async with start_session() as session:
        assert current_session() is session
        async with start_session() as inner:  # nesting reuses the outer session
            assert inner is session
        await TxAccount(name="s").save()
        assert current_session() is session
    assert current_session() is None
    assert await names() == ["s", "seed"]


class _Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def started(self, event):  # type: ignore[override]
        self.events.append((event.command_name, event.command.get("lsid")))

    def succeeded(self, event):  # type: ignore[override]
        pass

    def failed(self, event):  # type: ignore[override]
        pass


@pytest.mark.requires("sessions")
async def test_operations_mongoengine_makes_join_the_session(lane):
    listener = _Commands()
    mongomotor.disconnect()
    lane.connect(event_listeners=[listener])
    author = await TxAuthor(name="ann").save()
    await TxBook(title="one", author=author).save()
    listener.events.clear()
    async with start_session() as session:
        await TxAuthor(name="bob").save()
        await author.delete()  # runs the CASCADE delete rule: a find, a count
        await TxBook.objects.count()
        lsid = session.session_id
    inside = [(name, sid) for name, sid in listener.events if name != "endSessions"]
    names_sent = [name for name, _ in inside]
    assert "insert" in names_sent and "delete" in names_sent and "find" in names_sent
    assert all(sid == lsid for _, sid in inside), inside


@pytest.mark.requires("sessions")
async def test_first_use_of_a_class_prepares_its_collection_outside_the_session(lane):
    # MongoDB refuses listCollections, and index creation on an existing
    # collection, inside a transaction: preparing a collection never joins one.
    listener = _Commands()
    mongomotor.disconnect()
    lane.connect(event_listeners=[listener])
    async with start_session() as session:
        lsid = session.session_id  # (taken now: implicit sessions reuse pooled ids)
        await TxCappedLog(line="first use").save()
    sent = [(name, sid) for name, sid in listener.events if name != "endSessions"]
    preparation = [(name, sid) for name, sid in sent if name != "insert"]
    assert {name for name, _ in preparation} == {"listCollections", "create"}, sent
    assert all(sid != lsid for _, sid in preparation), sent
    assert [sid for name, sid in sent if name == "insert"] == [lsid]


# -- the retry loop, with injected errors ------------------------------------------
@pytest.mark.requires("transactions")
async def test_run_transaction_reruns_after_a_transient_commit_error(
    seeded, trust_server_transactions
):
    runs = []

    async def open_account(name: str) -> str:
        runs.append(name)
        if len(runs) == 1:
            fail_commit_once(current_session(), labelled("TransientTransactionError"), True)
        await TxAccount(name=name).save()
        return name

    assert await run_transaction(open_account, "a") == "a"
    assert runs == ["a", "a"]
    assert await names() == ["a", "seed"]


@pytest.mark.requires("transactions")
async def test_run_transaction_reruns_a_function_that_raised_a_transient_error(
    seeded, trust_server_transactions
):
    runs = []

    @transactional()
    async def open_account(name: str) -> None:
        runs.append(name)
        await TxAccount(name=f"{name}{len(runs)}").save()
        if len(runs) == 1:
            raise OperationFailure(
                "write conflict", code=112,
                details={"errorLabels": ["TransientTransactionError"]},
            )

    await open_account("x")
    assert runs == ["x", "x"]
    assert await names() == ["seed", "x2"]


@pytest.mark.requires("transactions")
async def test_other_errors_are_not_retried(seeded, trust_server_transactions):
    runs = []

    async def broken() -> None:
        runs.append(1)
        await TxAccount(name="half").save()
        raise OperationFailure("duplicate", code=11000)

    with pytest.raises(OperationFailure):
        await run_transaction(broken)
    assert runs == [1]
    assert await names() == ["seed"]


@pytest.mark.requires("transactions")
async def test_block_retries_a_commit_with_unknown_result(seeded, trust_server_transactions):
    async with run_in_transaction() as session:
        calls = fail_commit_once(session, labelled("UnknownTransactionCommitResult"), False)
        await TxAccount(name="a").save()
    assert len(calls) == 2
    assert await names() == ["a", "seed"]


@pytest.mark.requires("transactions")
async def test_block_rolls_back_and_points_to_run_transaction_on_transient_commit_error(
    seeded, trust_server_transactions
):
    with pytest.raises(PyMongoError) as caught:
        async with run_in_transaction() as session:
            fail_commit_once(session, labelled("TransientTransactionError"), True)
            await TxAccount(name="a").save()
    assert "run_transaction" in " ".join(getattr(caught.value, "__notes__", []))
    assert await names() == ["seed"]


@pytest.mark.requires("transactions")
async def test_nested_transactions_join_the_outer_one(seeded, trust_server_transactions):
    seen = []

    @transactional()
    async def inner() -> None:
        seen.append(current_session())
        await TxAccount(name="inner").save()

    with pytest.raises(KeyError):
        async with run_in_transaction() as outer:
            async with run_in_transaction() as nested:
                assert nested is outer
            await inner()
            raise KeyError("abort all")
    assert seen == [outer]
    assert await names() == ["seed"]
