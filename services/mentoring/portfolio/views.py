"""HTTP routes of the portfolio.

- ``GET /api/v1/programmes/{id}/portfolio`` (``mentoring:read``): the HTML page, or the
  PDF with ``?format=pdf`` or ``Accept: application/pdf``; ``?lang=en|fr|ar``.
- ``POST /api/v1/programmes/{id}/portfolio/publish`` and ``.../unpublish``
  (``mentoring:write``), ``GET .../portfolio/publication`` (``mentoring:read``).
- ``GET /portfolios/{id}``: the same page or PDF without a token, while published (404
  otherwise, as for an unknown programme).

A response carries a weak ``ETag`` naming the version of the data (its fingerprint),
the language and the format; ``If-None-Match`` with it answers 304 without rendering.
The PDF is made once per version of the data and kept (``X-Portfolio-Cache: hit`` when
served from what was kept, ``miss`` when made for this request).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.mentoring.domain.commands import PublishPortfolio, UnpublishPortfolio
from services.mentoring.domain.model import Publication
from services.mentoring.domain.ports import MentoringUnitOfWork
from services.mentoring.portfolio import operations as ops
from services.mentoring.portfolio import renderer_version
from services.mentoring.portfolio.content import Portfolio, fingerprint
from services.mentoring.portfolio.html import render_html
from services.mentoring.portfolio.pdf import render_pdf
from services.mentoring.portfolio.schemas import PortfolioArgs, PublicationSchema
from shared.auth import current_principal, requires
from shared.idempotency import idempotent
from shared.service import current_runtime

READ, WRITE = "mentoring:read", "mentoring:write"
HTML, PDF = "text/html", "application/pdf"
CACHE_HEADER = "X-Portfolio-Cache"
HEADERS = {
    "ETag": {"schema": {"type": "string"}, "description": "the version of the data shown"},
    "Vary": {"schema": {"type": "string"}},
}
PDF_HEADERS = {
    **HEADERS,
    CACHE_HEADER: {
        "schema": {"type": "string", "enum": ["hit", "miss"]},
        "description": "hit: the PDF kept for this version of the data; miss: made now",
    },
}

blueprint = Blueprint(
    "portfolio",
    __name__,
    url_prefix="/api/v1",
    description="A programme's portfolio: every participating cluster's profile, as a web "
    "page or a PDF (en, fr, ar); publishing it",
)
public = Blueprint(
    "portfolios",
    __name__,
    url_prefix="/portfolios",
    description="Published portfolios, for anyone (no token)",
)


def blueprints() -> list[Blueprint]:
    return [blueprint, public]


def _uow() -> MentoringUnitOfWork:
    uow: MentoringUnitOfWork = current_runtime().uow
    return uow


def _document(blp: Blueprint) -> Any:
    """The two representations (HTML, PDF) and 304, in the OpenAPI document."""

    def decorate(view: Any) -> Any:
        view = blp.alt_response(
            304, description="Not modified: the data is the version `If-None-Match` names."
        )(view)
        view = blp.alt_response(
            200,
            schema={"type": "string", "format": "binary"},
            content_type=PDF,
            headers=PDF_HEADERS,
            success=True,
        )(view)
        view = blp.response(
            200, {"type": "string"}, content_type=HTML, headers=HEADERS, description="OK"
        )(view)
        return blp.arguments(PortfolioArgs, location="query", as_kwargs=True)(view)

    return decorate


@blueprint.route("/programmes/<string:programme_id>/portfolio")
class ProgrammePortfolio(MethodView):
    @requires(READ)
    @_document(blueprint)
    def get(self, programme_id: str, lang: str, format: str | None = None) -> Response:
        """The programme's portfolio: its title, edition, organiser and dates, who is
        paired with whom, and one profile per participating cluster (mentors' clusters,
        then mentees', each sorted by country), with the role titles of the people
        involved and never their email or phone. HTML unless `?format=pdf` or
        `Accept: application/pdf`; `?lang=fr` or `?lang=ar` (right to left)."""
        content = ops.portfolio(_uow(), programme_id)
        return _serve(content, lang, format, public=False)


@public.route("/<string:programme_id>")
class PublishedPortfolio(MethodView):
    @public.doc(security=[])
    @_document(public)
    def get(self, programme_id: str, lang: str, format: str | None = None) -> Response:
        """A published portfolio, for anyone (no token); 404 once unpublished. The same
        page, formats and languages as `GET /api/v1/programmes/{id}/portfolio`."""
        content = ops.portfolio(_uow(), programme_id, published=True)
        return _serve(content, lang, format, public=True)


def _serve(content: Portfolio, language: str, format: str | None, *, public: bool) -> Response:
    wanted = format or _negotiated()
    version = renderer_version()
    tag = f"{fingerprint(content, version)[:40]}.{language}.{wanted}"
    headers = {
        "ETag": f'W/"{tag}"',
        "Vary": "Accept",
        "Cache-Control": f"{'public' if public else 'private'}, no-cache",
    }
    if request.if_none_match.contains_weak(tag):
        return Response(status=304, headers=headers)
    if wanted == "pdf":
        body, kept = ops.pdf(_uow(), content, language, render_pdf, version)
        headers[CACHE_HEADER] = "hit" if kept else "miss"
        headers["Content-Disposition"] = f'inline; filename="{_file_name(content, language)}"'
        return Response(body, mimetype=PDF, headers=headers)
    return Response(render_html(content, language), mimetype=HTML, headers=headers)


def _negotiated() -> str:
    best = request.accept_mimetypes.best_match([HTML, PDF], default=HTML)
    return "pdf" if best == PDF else "html"


def _file_name(content: Portfolio, language: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", content.name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "programme"
    edition = re.sub(r"[^a-z0-9]+", "-", (content.edition or "").lower()).strip("-")
    return f"portfolio-{slug}{'-' + edition if edition else ''}-{language}.pdf"


# -- publishing ------------------------------------------------------------------------
def _publication(programme_id: str, publication: Publication | None) -> dict[str, Any]:
    return {
        "programme_id": programme_id,
        "published": publication is not None,
        "published_at": publication.published_at if publication else None,
        "url": ops.public_path(programme_id) if publication else None,
    }


@blueprint.route("/programmes/<string:programme_id>/portfolio/publication")
class PortfolioPublication(MethodView):
    @requires(READ)
    @blueprint.response(200, PublicationSchema)
    def get(self, programme_id: str) -> dict[str, Any]:
        """Whether the portfolio is published, since when and where."""
        return _publication(programme_id, ops.publication(_uow(), programme_id))


@blueprint.route("/programmes/<string:programme_id>/portfolio/publish")
class PortfolioPublish(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.response(200, PublicationSchema)
    def post(self, programme_id: str) -> dict[str, Any]:
        """Publish the portfolio: anyone may then fetch it, without a token, at `url`
        (`mentoring.portfolio.published`). Publishing it again changes nothing; a draft
        programme has nothing to show yet (409)."""
        by = current_principal().subject
        publication = ops.publish(_uow(), PublishPortfolio(programme_id, by))
        return _publication(programme_id, publication)


@blueprint.route("/programmes/<string:programme_id>/portfolio/unpublish")
class PortfolioUnpublish(MethodView):
    @requires(WRITE)
    @idempotent
    @blueprint.response(200, PublicationSchema)
    def post(self, programme_id: str) -> dict[str, Any]:
        """Take the portfolio back: its public URL answers 404 again
        (`mentoring.portfolio.unpublished`; nothing if it was not published)."""
        ops.unpublish(_uow(), UnpublishPortfolio(programme_id))
        return _publication(programme_id, None)
