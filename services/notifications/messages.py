"""The messages' templates: one per notifying event type and language (en, fr, ar).

Each is a subject and a body in Jinja2 (rendered in a sandbox; see ``rendering``). The
body's paragraphs are separated by blank lines: the plain-text email is the body as
written, the HTML email wraps each paragraph in the layout (right to left for Arabic),
every value escaped. A language without a template falls back to English.

What a template sees: ``recipient`` (``id``, ``name``), ``data`` (the event's data, as
in the catalogue), ``action`` (a link to show as a button, if any) and the filters
``when`` (a time, in the recipient's language and the event's time zone) and ``day``;
``reasons`` (a match's English reason strings, told in the language, with the score)
and ``session_title`` (a session's English default title, in the language): see
``wording``. A French or Arabic message never carries the other services' English
strings as they are.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    subject: str
    body: str


_OTHER = (
    "{% set mine = data.mentor if recipient.id == data.mentor.person_id else data.mentee %}"
    "{% set other = data.mentee if recipient.id == data.mentor.person_id else data.mentor %}"
)
_CHANGED = (
    "{% set timed = 'starts_at' in data.changed or 'ends_at' in data.changed"
    " or 'timezone' in data.changed %}"
    "{% set placed = 'city' in data.changed or 'country' in data.changed %}"
    "{% set linked = 'online_link' in data.changed %}"
    "{% set before = data.previous %}"
)
"""What an ``events.event.rescheduled`` changed: its time (``timed``), its venue
(``placed``) or its link (``linked``); ``before``: the time and place it had."""
_VENUE = "{% if data.format != 'online' and data.city %}"
"""The event has a venue worth naming (an online event's place is its link)."""

TEMPLATES: dict[str, dict[str, Template]] = {
    "registry.person.registered": {
        "en": Template(
            "Welcome to the Cluster Booster Track, {{ recipient.name }}",
            "Dear {{ recipient.name }},\n\n"
            "Welcome to THE NEXT SOCIETY's Cluster Booster Track. You will hear from us "
            "here about mentoring, events and business trips.\n\n"
            "You can choose what we send you, and how, in your preferences.",
        ),
        "fr": Template(
            "Bienvenue dans le Cluster Booster Track, {{ recipient.name }}",
            "Bonjour {{ recipient.name }},\n\n"
            "Bienvenue dans le Cluster Booster Track de THE NEXT SOCIETY. Vous recevrez "
            "ici nos nouvelles sur le mentorat, les événements et les missions d'affaires.\n\n"
            "Vous pouvez choisir ce que nous vous envoyons, et comment, dans vos préférences.",
        ),
        "ar": Template(
            "مرحبًا بك في برنامج Cluster Booster Track، {{ recipient.name }}",
            "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "مرحبًا بك في برنامج Cluster Booster Track التابع لـ THE NEXT SOCIETY. "
            "ستصلك هنا أخبار الإرشاد والفعاليات والبعثات التجارية.\n\n"
            "يمكنك اختيار ما نرسله إليك وطريقة إرساله من خلال تفضيلاتك.",
        ),
    },
    "mentoring.enrolment.accepted": {
        "en": Template(
            "You are enrolled in {{ data.programme_name }}",
            "Dear {{ recipient.name }},\n\n"
            "You are enrolled in {{ data.programme_name }} as a {{ data.role }}. "
            "We will let you know when you are paired.",
        ),
        "fr": Template(
            "Vous êtes inscrit·e à {{ data.programme_name }}",
            "Bonjour {{ recipient.name }},\n\n"
            "Vous êtes inscrit·e à {{ data.programme_name }} en tant que "
            "{{ 'mentor' if data.role == 'mentor' else 'mentoré·e' }}. "
            "Nous vous préviendrons dès que votre binôme sera formé.",
        ),
        "ar": Template(
            "تم تسجيلك في {{ data.programme_name }}",
            "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "تم تسجيلك في {{ data.programme_name }} "
            "{{ 'مرشدًا' if data.role == 'mentor' else 'مستفيدًا من الإرشاد' }}. "
            "سنخبرك عند تكوين ثنائي الإرشاد الخاص بك.",
        ),
    },
    "mentoring.pair.matched": {
        "en": Template(
            _OTHER + "Your {{ 'mentee' if mine == data.mentor else 'mentor' }}: {{ other.name }}",
            _OTHER + "Dear {{ recipient.name }},\n\n"
            "In {{ data.programme_name }}, you are paired with {{ other.name }}, "
            "who will be your {{ 'mentee' if mine == data.mentor else 'mentor' }}.\n\n"
            "{% if data.reasons %}Why you fit: {{ data.reasons | join('; ') }}.{% endif %}",
        ),
        "fr": Template(
            _OTHER + "Votre {{ 'mentoré·e' if mine == data.mentor else 'mentor' }} : "
            "{{ other.name }}",
            _OTHER + "Bonjour {{ recipient.name }},\n\n"
            "Dans {{ data.programme_name }}, vous formez un binôme avec {{ other.name }}, "
            "qui sera votre {{ 'mentoré·e' if mine == data.mentor else 'mentor' }}.\n\n"
            "{% set why = data.reasons | reasons(data.score) %}"
            "{% if why %}Pourquoi vous : {{ why | join(' ; ') }}.{% endif %}",
        ),
        "ar": Template(
            _OTHER + "{{ 'المستفيد من إرشادك' if mine == data.mentor else 'مرشدك' }}: "
            "{{ other.name }}",
            _OTHER + "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "في {{ data.programme_name }}، تم تكوين ثنائي بينك وبين {{ other.name }} "
            "({{ 'المستفيد من إرشادك' if mine == data.mentor else 'مرشدك' }}).\n\n"
            "{% set why = data.reasons | reasons(data.score) %}"
            "{% if why %}أسباب التوافق: {{ why | join('؛ ') }}.{% endif %}",
        ),
    },
    "mentoring.pair.ended": {
        "en": Template(
            _OTHER + "Your mentoring pair with {{ other.name }} has ended",
            _OTHER + "Dear {{ recipient.name }},\n\n"
            "Your pair with {{ other.name }} in {{ data.programme_name }} has "
            "{{ 'completed' if data.status == 'completed' else 'ended' }}.\n\n"
            "Reason: {{ data.reason }}",
        ),
        "fr": Template(
            _OTHER + "Votre binôme avec {{ other.name }} a pris fin",
            _OTHER + "Bonjour {{ recipient.name }},\n\n"
            "Votre binôme avec {{ other.name }} dans {{ data.programme_name }} "
            "{{ 'est terminé' if data.status == 'completed' else 'a pris fin' }}.\n\n"
            "Motif : {{ data.reason }}",
        ),
        "ar": Template(
            _OTHER + "انتهى ثنائي الإرشاد مع {{ other.name }}",
            _OTHER + "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "انتهى ثنائي الإرشاد بينك وبين {{ other.name }} في {{ data.programme_name }}.\n\n"
            "السبب: {{ data.reason }}",
        ),
    },
    "mentoring.session.scheduled": {
        "en": Template(
            "Mentoring session: {{ data.title }}, {{ data.starts_at | day }}",
            "Dear {{ recipient.name }},\n\n"
            "A {{ data.kind }} mentoring session is scheduled: {{ data.title }}.\n\n"
            "When: {{ data.starts_at | when }} to {{ data.ends_at | when }}.\n\n"
            "{% if data.agenda %}Agenda: {{ data.agenda }}\n\n{% endif %}"
            "The invitation is attached for your calendar.",
        ),
        "fr": Template(
            "Séance de mentorat : {{ data.title | session_title }}, {{ data.starts_at | day }}",
            "Bonjour {{ recipient.name }},\n\n"
            "Une séance de mentorat est prévue : {{ data.title | session_title }}.\n\n"
            "Quand : du {{ data.starts_at | when }} au {{ data.ends_at | when }}.\n\n"
            "{% if data.agenda %}Ordre du jour : {{ data.agenda }}\n\n{% endif %}"
            "L'invitation est jointe pour votre agenda.",
        ),
        "ar": Template(
            "جلسة إرشاد: {{ data.title | session_title }}، {{ data.starts_at | day }}",
            "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "تمت جدولة جلسة إرشاد: {{ data.title | session_title }}.\n\n"
            "الموعد: من {{ data.starts_at | when }} إلى {{ data.ends_at | when }}.\n\n"
            "{% if data.agenda %}جدول الأعمال: {{ data.agenda }}\n\n{% endif %}"
            "الدعوة مرفقة لإضافتها إلى تقويمك.",
        ),
    },
    "mentoring.session.rescheduled": {
        "en": Template(
            "Session moved: {{ data.title }}, now {{ data.starts_at | day }}",
            "Dear {{ recipient.name }},\n\n"
            "The session {{ data.title }} has moved.\n\n"
            "Now: {{ data.starts_at | when }} to {{ data.ends_at | when }} "
            "(was {{ data.previous_starts_at | when }}).\n\n"
            "The updated invitation is attached.",
        ),
        "fr": Template(
            "Séance déplacée : {{ data.title | session_title }}, "
            "désormais le {{ data.starts_at | day }}",
            "Bonjour {{ recipient.name }},\n\n"
            "La séance {{ data.title | session_title }} a été déplacée.\n\n"
            "Désormais : du {{ data.starts_at | when }} au {{ data.ends_at | when }} "
            "(au lieu du {{ data.previous_starts_at | when }}).\n\n"
            "L'invitation mise à jour est jointe.",
        ),
        "ar": Template(
            "تغيير موعد الجلسة: {{ data.title | session_title }}، الآن {{ data.starts_at | day }}",
            "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "تم تغيير موعد الجلسة {{ data.title | session_title }}.\n\n"
            "الموعد الجديد: من {{ data.starts_at | when }} إلى {{ data.ends_at | when }} "
            "(بدلًا من {{ data.previous_starts_at | when }}).\n\n"
            "الدعوة المحدثة مرفقة.",
        ),
    },
    "mentoring.session.cancelled": {
        "en": Template(
            "Session cancelled: {{ data.title }}",
            "Dear {{ recipient.name }},\n\n"
            "The session {{ data.title }} of {{ data.starts_at | when }} is cancelled."
            "{% if data.reason %}\n\nReason: {{ data.reason }}{% endif %}",
        ),
        "fr": Template(
            "Séance annulée : {{ data.title | session_title }}",
            "Bonjour {{ recipient.name }},\n\n"
            "La séance {{ data.title | session_title }} du {{ data.starts_at | when }} est annulée."
            "{% if data.reason %}\n\nMotif : {{ data.reason }}{% endif %}",
        ),
        "ar": Template(
            "إلغاء الجلسة: {{ data.title | session_title }}",
            "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "تم إلغاء الجلسة {{ data.title | session_title }} "
            "المقررة في {{ data.starts_at | when }}."
            "{% if data.reason %}\n\nالسبب: {{ data.reason }}{% endif %}",
        ),
    },
    "events.registration.confirmed": {
        "en": Template(
            "You are registered: {{ data.event.title }}",
            "Dear {{ recipient.name }},\n\n"
            "Your seat at {{ data.event.title }} is confirmed.\n\n"
            "When: {{ data.event.starts_at | when }} to {{ data.event.ends_at | when }}.\n\n"
            "{% if data.event.city %}Where: {{ data.event.city }}"
            "{% if data.event.country %}, {{ data.event.country }}{% endif %}\n\n{% endif %}"
            "The invitation is attached for your calendar.",
        ),
        "fr": Template(
            "Inscription confirmée : {{ data.event.title }}",
            "Bonjour {{ recipient.name }},\n\n"
            "Votre place à {{ data.event.title }} est confirmée.\n\n"
            "Quand : du {{ data.event.starts_at | when }} au {{ data.event.ends_at | when }}.\n\n"
            "{% if data.event.city %}Où : {{ data.event.city }}"
            "{% if data.event.country %}, {{ data.event.country }}{% endif %}\n\n{% endif %}"
            "L'invitation est jointe pour votre agenda.",
        ),
        "ar": Template(
            "تم تأكيد تسجيلك: {{ data.event.title }}",
            "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "تم تأكيد مقعدك في {{ data.event.title }}.\n\n"
            "الموعد: من {{ data.event.starts_at | when }} إلى {{ data.event.ends_at | when }}.\n\n"
            "{% if data.event.city %}المكان: {{ data.event.city }}"
            "{% if data.event.country %}، {{ data.event.country }}{% endif %}\n\n{% endif %}"
            "الدعوة مرفقة لإضافتها إلى تقويمك.",
        ),
    },
    "events.registration.waitlisted": {
        "en": Template(
            "On the waitlist: {{ data.event.title }}",
            "Dear {{ recipient.name }},\n\n"
            "{{ data.event.title }} is full; you are number {{ data.waitlist_position }} "
            "on the waitlist. We will tell you at once if a seat frees up.",
        ),
        "fr": Template(
            "Liste d'attente : {{ data.event.title }}",
            "Bonjour {{ recipient.name }},\n\n"
            "{{ data.event.title }} est complet ; vous êtes en position "
            "{{ data.waitlist_position }} sur la liste d'attente. Nous vous préviendrons "
            "dès qu'une place se libère.",
        ),
        "ar": Template(
            "على قائمة الانتظار: {{ data.event.title }}",
            "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "اكتمل العدد في {{ data.event.title }}؛ ترتيبك {{ data.waitlist_position }} "
            "على قائمة الانتظار. سنخبرك فور توفر مقعد.",
        ),
    },
    "events.registration.promoted": {
        "en": Template(
            "A seat is yours: {{ data.event.title }}",
            "Dear {{ recipient.name }},\n\n"
            "A seat freed up at {{ data.event.title }} and it is now yours.\n\n"
            "When: {{ data.event.starts_at | when }} to {{ data.event.ends_at | when }}.\n\n"
            "The invitation is attached for your calendar.",
        ),
        "fr": Template(
            "Une place pour vous : {{ data.event.title }}",
            "Bonjour {{ recipient.name }},\n\n"
            "Une place s'est libérée à {{ data.event.title }} : elle est à vous.\n\n"
            "Quand : du {{ data.event.starts_at | when }} au {{ data.event.ends_at | when }}.\n\n"
            "L'invitation est jointe pour votre agenda.",
        ),
        "ar": Template(
            "حصلت على مقعد: {{ data.event.title }}",
            "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "توفر مقعد في {{ data.event.title }} وأصبح الآن لك.\n\n"
            "الموعد: من {{ data.event.starts_at | when }} إلى {{ data.event.ends_at | when }}.\n\n"
            "الدعوة مرفقة لإضافتها إلى تقويمك.",
        ),
    },
    "events.registration.cancelled": {
        "en": Template(
            "Registration cancelled: {{ data.event.title }}",
            "Dear {{ recipient.name }},\n\n"
            "Your registration to {{ data.event.title }} "
            "({{ data.event.starts_at | when }}) is cancelled."
            "{% if data.reason %}\n\nReason: {{ data.reason }}{% endif %}",
        ),
        "fr": Template(
            "Inscription annulée : {{ data.event.title }}",
            "Bonjour {{ recipient.name }},\n\n"
            "Votre inscription à {{ data.event.title }} "
            "({{ data.event.starts_at | when }}) est annulée."
            "{% if data.reason %}\n\nMotif : {{ data.reason }}{% endif %}",
        ),
        "ar": Template(
            "إلغاء التسجيل: {{ data.event.title }}",
            "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "تم إلغاء تسجيلك في {{ data.event.title }} ({{ data.event.starts_at | when }})."
            "{% if data.reason %}\n\nالسبب: {{ data.reason }}{% endif %}",
        ),
    },
    "events.event.rescheduled": {
        "en": Template(
            _CHANGED + "{% if timed %}Moved: {{ data.title }}, now {{ data.starts_at | day }}"
            "{% elif placed %}New venue: {{ data.title }}"
            "{% else %}New link: {{ data.title }}{% endif %}",
            _CHANGED + "Dear {{ recipient.name }},\n\n"
            "{{ data.title }} has "
            "{{ 'moved' if timed else 'a new venue' if placed else 'a new link' }}.\n\n"
            "When: {{ data.starts_at | when }} to {{ data.ends_at | when }}.\n\n"
            "{% if timed %}Before: {{ before.starts_at | when }} to {{ before.ends_at | when }}."
            "\n\n{% endif %}"
            + _VENUE
            + "Where: {{ data.city }}{% if data.country %}, {{ data.country }}{% endif %}"
            "{% if placed and before.city %} (was {{ before.city }}"
            "{% if before.country %}, {{ before.country }}{% endif %}){% endif %}\n\n"
            "{% endif %}"
            "{% if linked and data.online_link %}New link: {{ data.online_link }}\n\n{% endif %}"
            "The updated invitation is attached for your calendar.",
        ),
        "fr": Template(
            _CHANGED + "{% if timed %}Changement de date : {{ data.title }}, "
            "désormais le {{ data.starts_at | day }}"
            "{% elif placed %}Changement de lieu : {{ data.title }}"
            "{% else %}Nouveau lien : {{ data.title }}{% endif %}",
            _CHANGED + "Bonjour {{ recipient.name }},\n\n"
            "{{ data.title }} "
            "{{ 'change de date' if timed else 'change de lieu' if placed "
            "else 'change de lien' }}.\n\n"
            "Quand : du {{ data.starts_at | when }} au {{ data.ends_at | when }}.\n\n"
            "{% if timed %}Auparavant : du {{ before.starts_at | when }} "
            "au {{ before.ends_at | when }}.\n\n{% endif %}"
            + _VENUE
            + "Où : {{ data.city }}{% if data.country %}, {{ data.country }}{% endif %}"
            "{% if placed and before.city %} (au lieu de {{ before.city }}"
            "{% if before.country %}, {{ before.country }}{% endif %}){% endif %}\n\n"
            "{% endif %}"
            "{% if linked and data.online_link %}Nouveau lien : {{ data.online_link }}\n\n"
            "{% endif %}"
            "L'invitation mise à jour est jointe pour votre agenda.",
        ),
        "ar": Template(
            _CHANGED + "{% if timed %}تغيير الموعد: {{ data.title }}، "
            "الآن {{ data.starts_at | day }}"
            "{% elif placed %}تغيير المكان: {{ data.title }}"
            "{% else %}رابط جديد: {{ data.title }}{% endif %}",
            _CHANGED + "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "تم تغيير {{ 'موعد' if timed else 'مكان' if placed else 'رابط' }} "
            "{{ data.title }}.\n\n"
            "الموعد: من {{ data.starts_at | when }} إلى {{ data.ends_at | when }}.\n\n"
            "{% if timed %}الموعد السابق: من {{ before.starts_at | when }} "
            "إلى {{ before.ends_at | when }}.\n\n{% endif %}"
            + _VENUE
            + "المكان: {{ data.city }}{% if data.country %}، {{ data.country }}{% endif %}"
            "{% if placed and before.city %} (بدلًا من {{ before.city }}"
            "{% if before.country %}، {{ before.country }}{% endif %}){% endif %}\n\n"
            "{% endif %}"
            "{% if linked and data.online_link %}الرابط الجديد: {{ data.online_link }}\n\n"
            "{% endif %}"
            "الدعوة المحدثة مرفقة لإضافتها إلى تقويمك.",
        ),
    },
    "events.event.cancelled": {
        "en": Template(
            "Cancelled: {{ data.title }}",
            "Dear {{ recipient.name }},\n\n"
            "{{ data.title }}, planned for {{ data.starts_at | when }}, is cancelled, "
            "and your registration with it."
            "{% if data.reason %}\n\nReason: {{ data.reason }}{% endif %}",
        ),
        "fr": Template(
            "Annulé : {{ data.title }}",
            "Bonjour {{ recipient.name }},\n\n"
            "{{ data.title }}, prévu le {{ data.starts_at | when }}, est annulé, "
            "ainsi que votre inscription."
            "{% if data.reason %}\n\nMotif : {{ data.reason }}{% endif %}",
        ),
        "ar": Template(
            "تم الإلغاء: {{ data.title }}",
            "عزيزي/عزيزتي {{ recipient.name }}،\n\n"
            "تم إلغاء {{ data.title }} المقرر في {{ data.starts_at | when }}، "
            "وتم إلغاء تسجيلك معه."
            "{% if data.reason %}\n\nالسبب: {{ data.reason }}{% endif %}",
        ),
    },
}
"""Event type -> language -> template (``domain/routing.RULES`` names the same types)."""
