"""A person's inbox and preferences; templates in a sandbox, escaped, localised."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError

from services.notifications import operations as ops
from services.notifications.domain.commands import (
    ForgetRecipient,
    MarkAllRead,
    MarkRead,
    SetPreferences,
)
from services.notifications.domain.model import Category, Channel, Recipient
from services.notifications.domain.ports import NotificationQuery
from services.notifications.messages import TEMPLATES, Template
from services.notifications.rendering import JinjaRenderer
from services.notifications.samples import SAMPLES
from shared.errors import NotFound, PreconditionFailed
from tests.unit.notifications.conftest import (
    RENDERER,
    T0,
    Uow,
    known,
    notify,
    pair,
    person,
)


def test_the_inbox_counts_unread_and_marks_read(uow: Uow) -> None:
    known(uow, person("mentor"), person("mentee"))
    notify(uow, pair())
    notify(uow, pair("mentoring.pair.ended"))
    query = NotificationQuery("mentor", Channel.IN_APP)
    items, unread = ops.list_notifications(uow, query, 10, None)
    assert unread == 2 and len(items) == 2
    read = ops.mark_read(uow, MarkRead("mentor", items[0].id))
    assert read.read
    unread_only = NotificationQuery("mentor", Channel.IN_APP, unread_only=True)
    assert [n.id for n in ops.list_notifications(uow, unread_only, 10, None)[0]] == [items[1].id]
    assert ops.mark_all_read(uow, MarkAllRead("mentor")) == 1
    assert ops.list_notifications(uow, query, 10, None)[1] == 0
    # the mentee's inbox is untouched
    assert ops.list_notifications(uow, NotificationQuery("mentee"), 10, None)[1] == 2


def test_nobody_marks_another_persons_notification(uow: Uow) -> None:
    known(uow, person("mentor"), person("mentee"))
    notify(uow, pair())
    theirs = next(n for n in uow.tx.notifications.rows.values() if n.person_id == "mentee")
    with pytest.raises(NotFound):
        ops.mark_read(uow, MarkRead("mentor", theirs.id))


def test_preferences_default_on_and_changes_need_the_current_version(uow: Uow) -> None:
    known(uow, person("p1"))
    assert ops.get_preferences(uow, "p1").matrix()["email"] == {
        "registry": True,
        "mentoring": True,
        "events": True,
    }
    saved = ops.set_preferences(
        uow, SetPreferences("p1", {Channel.IN_APP: {Category.MENTORING: False}}, 0)
    )
    assert saved.version == 1 and not saved.allows(Category.MENTORING, Channel.IN_APP)
    with pytest.raises(PreconditionFailed):
        ops.set_preferences(uow, SetPreferences("p1", {Channel.EMAIL: {}}, 0))


def _renderer(body: str) -> JinjaRenderer:
    return JinjaRenderer({"x.y.z": {"en": Template("Hi {{ recipient.name }}", body)}})


def test_html_escapes_values_and_text_keeps_them() -> None:
    renderer = _renderer("Title: {{ data.title }}")
    rendered = renderer.render(
        "x.y.z", "fr", {"title": "<script>x</script>"}, Recipient("p", "A & B", None, "fr")
    )
    assert rendered.language == "en"  # no French template: English
    assert rendered.subject == "Hi A & B"
    assert rendered.text == "Title: <script>x</script>"
    assert "&lt;script&gt;" in rendered.html and "<script>" not in rendered.html


def test_a_template_cannot_reach_python_internals() -> None:
    renderer = _renderer("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(SecurityError):
        renderer.render("x.y.z", "en", {}, Recipient("p", "P", None, "en"))


def test_times_show_in_the_events_zone_and_the_persons_language() -> None:
    renderer = _renderer("{{ data.starts_at | when }}")
    data = {"starts_at": "2030-03-04T08:30:00+00:00", "timezone": "Asia/Amman"}
    rendered = renderer.render("x.y.z", "en", data, Recipient("p", "P", None, "en"))
    assert rendered.text == "Monday 4 March 2030, 11:30 (Asia/Amman)"


def test_every_template_renders_its_sample_in_every_language() -> None:
    from booster.catalogue import platform_catalogue
    from services.notifications.samples import SAMPLES

    assert set(SAMPLES) == set(TEMPLATES)
    for event_type, data in SAMPLES.items():
        platform_catalogue().make_event(event_type, subject=None, data=data)  # valid data
        for language in ("en", "fr", "ar"):
            recipient = Recipient("sample-person", "Salma", None, language)
            rendered = RENDERER.render(event_type, language, data, recipient)
            assert rendered.language == language
            assert rendered.subject and "\n" not in rendered.subject, event_type
            assert "Salma" in rendered.text, (event_type, language)
            assert ('dir="rtl"' in rendered.html) == (language == "ar")
            assert "{{" not in rendered.text and "None" not in rendered.text, (event_type, language)


def test_a_write_that_changes_nothing_keeps_the_version(uow: Uow) -> None:
    known(uow, person("p1"))
    off = {Channel.EMAIL: {Category.EVENTS: False}}
    saved = ops.set_preferences(uow, SetPreferences("p1", off, None))
    assert saved.version == 1
    for unchanged in ({}, off, {Channel.IN_APP: {Category.EVENTS: True}}):
        again = ops.set_preferences(uow, SetPreferences("p1", unchanged, 1))
        assert again == saved
    assert ops.get_preferences(uow, "p1") == saved
    # nothing saved for a first write that changes nothing either
    known(uow, person("p2"))
    untouched = ops.set_preferences(uow, SetPreferences("p2", {Channel.EMAIL: {}}, 0))
    assert untouched.version == 0 and untouched.updated_at is None
    assert ops.get_preferences(uow, "p2").version == 0
    with uow.read() as tx:
        assert tx.preferences.many(["p2"]) == {}
    assert uow.events == []


@pytest.mark.parametrize("person_id", ["ghost-person", "x" * 5000, "gone"])
def test_an_unknown_or_removed_person_has_no_inbox_and_no_preferences(
    uow: Uow, person_id: str
) -> None:
    known(uow, person("gone"))
    with uow.begin() as tx:
        ops.forget_recipient(tx, ForgetRecipient("gone", T0))
    everything_off = {Channel.EMAIL: {Category.EVENTS: False}}
    attempts = (
        lambda: ops.get_preferences(uow, person_id),
        lambda: ops.set_preferences(uow, SetPreferences(person_id, everything_off, None)),
        lambda: ops.list_notifications(uow, NotificationQuery(person_id), 20, None),
        lambda: ops.mark_all_read(uow, MarkAllRead(person_id)),
        lambda: ops.mark_read(uow, MarkRead(person_id, "n-1")),
    )
    for attempt in attempts:
        with pytest.raises(NotFound, match="No recipient"):
            attempt()
    with uow.read() as tx:
        assert tx.preferences.many([person_id]) == {}


MENTORING_REASONS = [
    "shared language: en, fr",
    "competency fit: offers 2 of 3 wanted competencies: funding, governance_strategy",
    "sector affinity: agrifood",
    "cross-country: MA and FR",
    "manual pair",
    "some reason nobody knows",
]


def test_match_reasons_are_told_in_the_recipients_language(uow: Uow) -> None:
    known(uow, person("mentor", "fr"), person("mentee", "ar"), person("third", "en"))
    staged = notify(uow, pair(reasons=MENTORING_REASONS, score=0.82))
    by_person = {n.person_id: n for n in staged if n.channel is Channel.EMAIL}
    french, arabic = by_person["mentor"], by_person["mentee"]
    for message in (french, arabic):
        for english in (*MENTORING_REASONS, "shared language", "competency fit", "manual"):
            assert english not in message.text and english not in message.html
    assert "langue commune : anglais, français" in french.text
    assert "2 sur 3" in french.text and "financement" in french.text
    assert "Maroc et France" in french.text and "82" in french.text
    assert "الإنجليزية" in arabic.text and "المغرب" in arabic.text and "التمويل" in arabic.text
    # English keeps the reasons as written
    english = RENDERER.render(
        "mentoring.pair.matched",
        "en",
        pair(reasons=MENTORING_REASONS, score=0.82).data,
        Recipient("mentor", "M", None, "en"),
    )
    assert "shared language: en, fr" in english.text


def test_unrecognised_reasons_only_leave_the_score_in_french_and_arabic(uow: Uow) -> None:
    known(uow, person("mentor", "fr"), person("mentee", "ar"))
    staged = notify(uow, pair(reasons=["both work on export"], score=None))
    for message in staged:
        assert "export" not in message.text
        assert "Pourquoi" not in message.text and "أسباب" not in message.text


@pytest.mark.parametrize(
    ("language", "default", "localised"),
    [
        ("fr", "Bilateral session", "Séance bilatérale"),
        ("fr", "Group session", "Séance de groupe"),
        ("ar", "Bilateral session", "جلسة ثنائية"),
        ("ar", "Group session", "جلسة جماعية"),
    ],
)
@pytest.mark.parametrize(
    "event_type",
    ["mentoring.session.scheduled", "mentoring.session.rescheduled", "mentoring.session.cancelled"],
)
def test_default_session_titles_are_localised(
    event_type: str, language: str, default: str, localised: str
) -> None:
    data = {**SAMPLES[event_type], "title": default}
    rendered = RENDERER.render(event_type, language, data, Recipient("p", "P", None, language))
    assert localised in rendered.subject and localised in rendered.text
    assert default not in rendered.subject + rendered.text + rendered.html
    english = RENDERER.render(event_type, "en", data, Recipient("p", "P", None, "en"))
    assert default in english.subject
    chosen = RENDERER.render(
        event_type, language, {**data, "title": "Export plan"}, Recipient("p", "P", None, "fr")
    )
    assert "Export plan" in chosen.subject


def test_dates_stay_in_the_messages_language_whatever_was_rendered_before() -> None:
    renderer = JinjaRenderer()
    data = SAMPLES["mentoring.session.scheduled"]
    for language, month in (("fr", "mars"), ("ar", "مارس"), ("fr", "mars"), ("en", "March")):
        rendered = renderer.render(
            "mentoring.session.scheduled", language, data, Recipient("p", "P", None, language)
        )
        assert month in rendered.subject, (language, rendered.subject)
