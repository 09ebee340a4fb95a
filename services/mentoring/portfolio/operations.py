"""The portfolio's use cases: read it, make its PDF once per version of the data, publish
and unpublish it. Each is one unit of work; publishing and unpublishing emit their event
in the same transaction (the outbox)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.mentoring.domain.commands import PublishPortfolio, UnpublishPortfolio
from services.mentoring.domain.model import (
    Programme,
    ProgrammeStatus,
    Publication,
    now,
)
from services.mentoring.domain.ports import MentoringTx, MentoringUnitOfWork
from services.mentoring.portfolio.content import SHOWN_PAIRS, Portfolio, assemble, fingerprint
from services.mentoring.portfolio.wording import LANGUAGES
from shared.errors import InvalidTransition, NotFound

Renderer = Callable[[Portfolio, str], bytes]


def public_path(programme_id: str) -> str:
    """Where a published portfolio is served without a token (on the mentoring service)."""
    return f"/portfolios/{programme_id}"


def portfolio(uow: MentoringUnitOfWork, programme_id: str, *, published: bool = False) -> Portfolio:
    """The programme's portfolio as its data stands; with ``published``, only if it is
    published (404 otherwise, as for an unknown programme)."""
    with uow.read() as tx:
        programme = tx.programmes.get(programme_id)
        if programme is None or (published and tx.portfolios.publication(programme_id) is None):
            what = "published portfolio" if published else "programme"
            raise NotFound(f"No {what} with id {programme_id!r}.")
        enrolments = tx.enrolments.of_programme(programme.id)
        pairs = tx.pairs.of_programme(programme.id, SHOWN_PAIRS)
        people = tx.people.many([enrolment.person_id for enrolment in enrolments])
        clusters = tx.clusters.many(
            sorted({person.cluster_id for person in people.values() if person.cluster_id})
        )
    return assemble(programme, enrolments, pairs, people, clusters)


def pdf(
    uow: MentoringUnitOfWork, content: Portfolio, language: str, render: Renderer, version: str
) -> tuple[bytes, bool]:
    """The PDF of ``content`` in ``language`` and whether it was kept from before: made
    (by ``render``) only when no PDF of the same data and renderer ``version`` is kept,
    then kept in place of the older one."""
    key = fingerprint(content, version)
    with uow.read() as tx:
        kept = tx.portfolios.rendered(content.programme_id, language, key)
    if kept is not None:
        return kept, True
    made = render(content, language)
    with uow.begin() as tx:
        tx.portfolios.keep_rendered(content.programme_id, language, key, made)
    return made, False


def publication(uow: MentoringUnitOfWork, programme_id: str) -> Publication | None:
    with uow.read() as tx:
        _programme(tx, programme_id)
        return tx.portfolios.publication(programme_id)


def publish(uow: MentoringUnitOfWork, command: PublishPortfolio) -> Publication:
    """Publish the portfolio (``mentoring.portfolio.published``); publishing it again
    changes nothing and announces nothing. A draft has no participants yet (409)."""
    with uow.begin() as tx:
        programme = _programme(tx, command.programme_id, lock=True)
        current = tx.portfolios.publication(programme.id)
        if current is not None:
            return current
        if programme.status is ProgrammeStatus.DRAFT:
            raise InvalidTransition(
                "A draft programme has no participants to show: open it before publishing "
                "its portfolio."
            )
        published = Publication(programme.id, now(), command.by)
        tx.portfolios.publish(published)
        tx.emit(
            "mentoring.portfolio.published",
            subject=programme.id,
            data={
                **_programme_data(programme),
                "url": public_path(programme.id),
                "pdf_url": f"{public_path(programme.id)}?format=pdf",
                "languages": list(LANGUAGES),
                "published_at": published.published_at,
            },
        )
        return published


def unpublish(uow: MentoringUnitOfWork, command: UnpublishPortfolio) -> None:
    """Take the portfolio back (``mentoring.portfolio.unpublished``): without a token it
    answers 404 again. Unpublishing one that is not published changes nothing."""
    with uow.begin() as tx:
        programme = _programme(tx, command.programme_id, lock=True)
        if tx.portfolios.publication(programme.id) is None:
            return
        tx.portfolios.unpublish(programme.id)
        tx.emit(
            "mentoring.portfolio.unpublished",
            subject=programme.id,
            data={**_programme_data(programme), "unpublished_at": now()},
        )


def _programme_data(programme: Programme) -> dict[str, Any]:
    return {
        "programme_id": programme.id,
        "programme_name": programme.name,
        "edition": programme.edition,
        "organiser": programme.organiser,
    }


def _programme(tx: MentoringTx, programme_id: str, *, lock: bool = False) -> Programme:
    programme = tx.programmes.get(programme_id, lock=lock)
    if programme is None:
        raise NotFound(f"No programme with id {programme_id!r}.")
    return programme
