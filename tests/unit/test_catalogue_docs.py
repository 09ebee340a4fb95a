"""docs/events.md and docs/asyncapi.json are generated from the catalogue and current."""

from __future__ import annotations

import json
from pathlib import Path

from marshmallow import Schema, fields, validate

from booster.catalogue import platform_catalogue
from shared.events import Catalogue
from shared.events.docs import asyncapi, render_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_docs_match_the_catalogue() -> None:
    assert (DOCS / "events.md").read_text() == render_markdown(platform_catalogue()), (
        "run: booster catalogue markdown > docs/events.md"
    )
    assert json.loads((DOCS / "asyncapi.json").read_text()) == asyncapi(platform_catalogue()), (
        "run: booster catalogue asyncapi > docs/asyncapi.json"
    )


class PersonRegistered(Schema):
    id = fields.String(required=True)
    language = fields.String(required=True, validate=validate.OneOf(["en", "fr", "ar"]))
    sectors = fields.List(fields.String())


def test_rendering_lists_types_fields_and_versions() -> None:
    catalogue = Catalogue()
    catalogue.register(
        "registry.person.registered", PersonRegistered, version=2, doc="A person joined."
    )
    page = render_markdown(catalogue)
    assert "| `registry.person.registered` | 2 | A person joined. |" in page
    assert "| `language` | string: `en` \\| `fr` \\| `ar` | required |" in page
    assert "| `sectors` | array of string |  |" in page
    document = asyncapi(catalogue)
    channel = document["channels"]["registry.person.registered"]
    assert channel["bindings"]["amqp"]["exchange"]["name"] == "booster.events"
    message = document["components"]["messages"]["RegistryPersonRegisteredV2"]
    assert message["payload"]["properties"]["dataschema"]["const"] == (
        "urn:booster:event:registry.person.registered:v2"
    )
    assert (
        "language" in document["components"]["schemas"]["RegistryPersonRegisteredV2"]["properties"]
    )


def test_the_platform_lists_every_service_under_its_own_name_and_port() -> None:
    from booster.platform import SERVICE_NAMES, all_specs

    specs = all_specs()
    assert [s.name for s in specs] == list(SERVICE_NAMES)
    assert [s.port for s in specs] == [8001, 8002, 8003, 8004]
