"""Who hears what, on which channel, in which language: the staging use cases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from services.notifications import operations as ops
from services.notifications.domain.commands import ForgetRecipient, SetPreferences
from services.notifications.domain.model import Category, Channel, DeliveryStatus
from services.notifications.domain.routing import RULES
from services.notifications.messages import TEMPLATES
from tests.unit.notifications.conftest import (
    START,
    T0,
    Uow,
    known,
    make,
    notify,
    pair,
    person,
    registration,
    summary,
)


def _welcome(person_id: str = "p1", language: str = "fr") -> object:
    return make(
        "registry.person.registered",
        person_id,
        id=person_id,
        name=f"Person {person_id}",
        email=f"{person_id}@example.org",
        language=language,
        role="cluster_manager",
    )


def test_every_rule_has_a_template_in_every_language() -> None:
    assert set(RULES) == set(TEMPLATES)
    for event_type, by_language in TEMPLATES.items():
        assert set(by_language) == {"en", "fr", "ar"}, event_type


def test_a_welcome_goes_to_the_inbox_and_by_email_in_the_persons_language(uow: Uow) -> None:
    known(uow, person("p1", "fr"))
    staged = notify(uow, _welcome())
    assert {(n.channel, n.status) for n in staged} == {
        (Channel.EMAIL, DeliveryStatus.PENDING),
        (Channel.IN_APP, DeliveryStatus.SENT),
    }
    email = next(n for n in staged if n.channel is Channel.EMAIL)
    assert email.address == "p1@example.org"
    assert email.language == "fr"
    assert email.subject == "Bienvenue dans le Cluster Booster Track, Person p1"
    assert email.calendar is None
    assert len(uow.tx.notifications.rows) == 2


def test_the_same_event_twice_stages_nothing_more(uow: Uow) -> None:
    known(uow, person("p1"))
    event_ = _welcome()
    notify(uow, event_)
    first = dict(uow.tx.notifications.rows)
    notify(uow, event_)
    assert uow.tx.notifications.rows == first


def test_a_matched_pair_tells_both_each_in_their_language(uow: Uow) -> None:
    known(uow, person("mentor", "fr"), person("mentee", "ar"))
    staged = notify(uow, pair())
    emails = {n.person_id: n for n in staged if n.channel is Channel.EMAIL}
    assert emails["mentor"].subject == "Votre mentoré·e : Person mentee"
    assert emails["mentee"].language == "ar"
    assert 'dir="rtl"' in emails["mentee"].html
    assert 'dir="ltr"' in emails["mentor"].html


def test_a_person_not_known_yet_makes_the_event_wait(uow: Uow) -> None:
    known(uow, person("mentor"))
    with pytest.raises(ops.RecipientNotKnownYet):
        notify(uow, pair())
    assert uow.tx.notifications.rows == {}


def test_a_removed_person_hears_nothing_and_their_inbox_is_gone(uow: Uow) -> None:
    known(uow, person("mentor"), person("mentee"))
    notify(uow, pair())
    with uow.begin() as tx:
        ops.forget_recipient(tx, ForgetRecipient("mentee", T0 + timedelta(hours=1)))
    assert {n.person_id for n in uow.tx.notifications.rows.values()} == {"mentor"}
    known(uow, person("mentee", at=T0 + timedelta(hours=2)))  # a late update: ignored
    staged = notify(uow, pair("mentoring.pair.ended"))
    assert {n.person_id for n in staged} == {"mentor"}


def test_an_opted_out_channel_is_left_out(uow: Uow) -> None:
    known(uow, person("p1"), person("p2"))
    ops.set_preferences(uow, SetPreferences("p1", {Channel.EMAIL: {Category.EVENTS: False}}))
    ops.set_preferences(
        uow,
        SetPreferences(
            "p2",
            {Channel.EMAIL: {Category.EVENTS: False}, Channel.IN_APP: {Category.EVENTS: False}},
        ),
    )
    staged = notify(uow, registration("events.registration.confirmed", "p1"))
    assert [n.channel for n in staged] == [Channel.IN_APP]
    assert notify(uow, registration("events.registration.confirmed", "p2")) == []
    # other categories are still on
    assert len(notify(uow, _welcome("p1"))) == 2


def test_a_confirmed_registration_carries_a_calendar_request(uow: Uow) -> None:
    known(uow, person("p1", "ar"))
    [email] = [
        n
        for n in notify(uow, registration("events.registration.confirmed", "p1"))
        if n.channel is Channel.EMAIL
    ]
    assert email.calendar is not None
    calendar = Calendar.from_ical(email.calendar)
    assert calendar["METHOD"] == "REQUEST"
    [entry] = calendar.walk("VEVENT")
    assert str(entry["UID"]) == "event-1@booster-track"
    assert entry.decoded("DTSTART") == START
    assert str(entry.decoded("DTSTART").tzinfo) == "Europe/Paris"
    assert str(entry["LOCATION"]) == "Lyon, FR"
    # the text shows the time in Paris (09:30), in Arabic
    assert "09:30" in email.text and "مارس" in email.text


def test_a_cancelled_event_tells_everyone_registered_with_a_calendar_cancel(uow: Uow) -> None:
    known(uow, person("p1"), person("p2"))
    event_ = make(
        "events.event.cancelled",
        "event-1",
        **summary(),
        status="cancelled",
        capacity=10,
        registration_closes_at=None,
        reason="Storm",
        person_ids=["p1", "p2"],
    )
    emails = [n for n in notify(uow, event_) if n.channel is Channel.EMAIL]
    assert {n.person_id for n in emails} == {"p1", "p2"}
    for email in emails:
        assert email.calendar is not None
        assert Calendar.from_ical(email.calendar)["METHOD"] == "CANCEL"


def test_an_event_type_without_a_rule_notifies_nobody(uow: Uow) -> None:
    known(uow, person("p1"))
    event_ = make(
        "registry.person.removed",
        "p1",
        id="p1",
    )
    assert notify(uow, event_) == []
