"""The unit-of-work pieces of ``shared``: the in-memory fake (rollback, commit, read-only),
the error table of ``shared.http.problems`` and the one reconnect policy."""

from __future__ import annotations

import threading

import pytest
from marshmallow import Schema, fields

from shared import errors
from shared.bus import connection
from shared.events import Catalogue
from shared.fake_uow import FakeTransaction, FakeUnitOfWork
from shared.http.problems import STATUSES, InvalidRequestPart, status_of
from shared.uow import ReadOnly


class Noted(Schema):
    text = fields.String(required=True)


class Notebook(FakeTransaction):
    """A fake transaction holding one in-memory "repository"."""

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__(catalogue)
        self.notes: dict[str, str] = {}


@pytest.fixture
def uow() -> FakeUnitOfWork[Notebook]:
    catalogue = Catalogue()
    catalogue.register("demo.note.written", Noted, doc="A note was written.")
    return FakeUnitOfWork(Notebook(catalogue))


def test_a_committed_unit_keeps_its_writes_and_publishes_its_events(
    uow: FakeUnitOfWork[Notebook],
) -> None:
    with uow.begin() as tx:
        tx.notes["a"] = "first"
        tx.emit("demo.note.written", subject="a", data={"text": "first"})

    assert uow.tx.notes == {"a": "first"}
    assert uow.types() == ["demo.note.written"] and uow.commits == 1
    assert uow.events[0].data == {"text": "first"}


def test_a_failed_unit_leaves_no_write_and_no_event(uow: FakeUnitOfWork[Notebook]) -> None:
    with uow.begin() as tx:
        tx.notes["a"] = "kept"
    with pytest.raises(RuntimeError), uow.begin() as tx:
        tx.notes["a"] = "overwritten"
        tx.notes["b"] = "new"
        tx.emit("demo.note.written", subject="b", data={"text": "new"})
        raise RuntimeError("the use case failed")

    assert uow.tx.notes == {"a": "kept"}
    assert uow.events == [] and uow.commits == 1
    assert uow.tx.staged == []


def test_a_nested_unit_joins_the_outer_one(uow: FakeUnitOfWork[Notebook]) -> None:
    with pytest.raises(RuntimeError), uow.begin():
        with uow.begin() as inner:
            inner.notes["a"] = "inner"
        raise RuntimeError("the outer unit fails after the inner one")

    assert uow.tx.notes == {} and uow.commits == 0


def test_events_are_checked_against_the_catalogue_as_the_outbox_does(
    uow: FakeUnitOfWork[Notebook],
) -> None:
    from shared.events import InvalidEventData, UnknownEventType

    with pytest.raises(InvalidEventData), uow.begin() as tx:
        tx.emit("demo.note.written", subject="a", data={"text": 3})
    with pytest.raises(UnknownEventType), uow.begin() as tx:
        tx.emit("demo.note.erased", subject="a", data={})


def test_a_read_only_unit_refuses_to_emit(uow: FakeUnitOfWork[Notebook]) -> None:
    with pytest.raises(ReadOnly), uow.read() as tx:
        tx.emit("demo.note.written", subject="a", data={"text": "x"})
    with uow.begin() as tx:  # and the flag does not leak into the next unit
        tx.emit("demo.note.written", subject="a", data={"text": "x"})
    assert uow.types() == ["demo.note.written"]


@pytest.mark.parametrize(
    ("error", "status", "title"),
    [
        (errors.NotFound("x"), 404, "Not found"),
        (errors.Conflict("x"), 409, "Conflict"),
        (errors.InvalidTransition("x"), 409, "Invalid state transition"),
        (errors.PreconditionFailed("x"), 412, "Precondition failed"),
        (errors.InvalidInput("x"), 422, "Unprocessable content"),
        (errors.Unauthorized("x"), 401, "Unauthorized"),
        (errors.Forbidden("x"), 403, "Forbidden"),
        (errors.PlatformError("x"), 400, "Bad request"),
        (InvalidRequestPart("x", errors={"cursor": ["bad"]}, location="query"), 422, None),
    ],
)
def test_each_domain_error_has_one_status_in_the_table(
    error: errors.PlatformError, status: int, title: str | None
) -> None:
    assert status_of(error)[0] == status
    if title:
        assert status_of(error)[1] == title


def test_a_service_subclass_is_shown_as_its_nearest_ancestor() -> None:
    class SeatsTaken(errors.Conflict):
        pass

    assert status_of(SeatsTaken("full")) == STATUSES[errors.Conflict]


def test_domain_errors_carry_no_http() -> None:
    error = errors.NotFound("No cluster 'x'.", errors={"id": ["unknown"]})
    assert not hasattr(error, "status") and not hasattr(error, "location")
    assert (error.detail, error.errors) == ("No cluster 'x'.", {"id": ["unknown"]})


def test_the_reconnect_policy_backs_off_doubling_and_resets_after_a_good_stretch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []
    outcomes = iter(["fail", "fail", "fail", "ok", "fail", "stop"])
    stopping = threading.Event()
    interrupted: list[int] = []
    monkeypatch.setattr(stopping, "wait", lambda seconds: waits.append(seconds))

    def stretch() -> None:
        outcome = next(outcomes)
        if outcome == "stop":
            stopping.set()
        elif outcome == "fail":
            raise ConnectionError("broker gone")

    connection.run_reconnecting(
        stretch,
        stopping=stopping,
        what="test",
        service="demo",
        on_interrupt=lambda: interrupted.append(1),
    )

    assert waits == [0.2, 0.4, 0.8, 0.2]
    assert len(interrupted) == 4


def test_the_back_off_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    stopping = threading.Event()

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        if len(waits) == 8:
            stopping.set()
        return stopping.is_set()

    monkeypatch.setattr(stopping, "wait", wait)

    def failing() -> None:
        raise OSError("down")

    connection.run_reconnecting(failing, stopping=stopping, what="test", service="demo")

    assert waits[-3:] == [connection.MAX_BACKOFF] * 3
