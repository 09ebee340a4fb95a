"""The portfolio as a PDF (fpdf2, pure Python): A4, the fonts shipped beside this
module (Noto Sans for Latin script, Noto Naskh Arabic for Arabic, each the other's
fallback), text shaped by HarfBuzz (uharfbuzz) so that Arabic letters join and runs of
mixed direction are ordered by the Unicode bidirectional algorithm. In Arabic the page
reads right to left: text is aligned right and the pair table's columns are mirrored.
No browser, no system library: it installs from the project's own files.

Page 1 is the cover: the programme, then who is matched with whom; the profiles of the
mentors' clusters, then of the mentees' clusters, follow, each kept whole on a page (and
after each, those without a cluster in the registry, one line each).

Lines are broken here, word by word (each word measured once, shaped), and each line is
then drawn as one cell: fpdf2's own line breaking re-shapes a line at every character,
which made an Arabic portfolio of 25 profiles take seconds.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from services.mentoring.portfolio.content import Portfolio
from services.mentoring.portfolio.wording import BRAND, PortfolioView, ProfileView, view

# fpdf2 subsets each embedded font with fontTools, which logs a line per table at INFO:
# some 140 lines per PDF. Only its warnings are worth keeping.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONTS = Path(__file__).parent / "fonts"
LATIN, ARABIC = "notosans", "notonaskharabic"
Colour = tuple[int, int, int]
ACCENT: Colour = (11, 110, 117)
INK: Colour = (29, 39, 51)
MUTED: Colour = (91, 103, 118)
WARNING: Colour = (138, 75, 0)
LINE: Colour = (217, 224, 230)
SOFT: Colour = (243, 246, 248)
WHITE: Colour = (255, 255, 255)
EPOCH = datetime(2021, 1, 1, tzinfo=UTC)
"""The creation date written in every file, so that a PDF depends on its content only."""


@dataclass(frozen=True)
class Style:
    size: float
    bold: bool = False
    colour: Colour = INK

    @property
    def leading(self) -> float:
        """Line height in mm for this font size (in points)."""
        return self.size * 0.53


BODY = Style(9)
BODY_MUTED = Style(9, colour=MUTED)
STRONG = Style(9, bold=True)


class _Document(FPDF):
    def __init__(self, shown: PortfolioView) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.shown = shown
        self.rtl = shown.rtl
        self.align = "R" if self.rtl else "L"
        for family, stem in ((LATIN, "NotoSans"), (ARABIC, "NotoNaskhArabic")):
            self.add_font(family, "", str(FONTS / f"{stem}-Regular.ttf"))
            self.add_font(family, "B", str(FONTS / f"{stem}-Bold.ttf"))
        self.main_font = ARABIC if self.rtl else LATIN
        self.set_fallback_fonts([LATIN, ARABIC], exact_match=False)
        if shown.rtl:
            # paragraphs are right to left, even those that begin with a Latin name
            self.set_text_shaping(use_shaping_engine=True, direction="rtl")
        elif _needs_shaping(shown):
            self.set_text_shaping(use_shaping_engine=True)
        self.scale = 1.1 if shown.rtl else 1.0  # Naskh reads small beside Latin
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_creation_date(EPOCH)
        self.set_lang(shown.language)
        self.set_title(f"{shown.name} · {shown.words['title']}")
        self.set_subject(shown.words["title"])
        self.set_creator(BRAND)
        self._widths: dict[tuple[str, float, str], float] = {}

    @property
    def width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def style(self, style: Style) -> None:
        self.set_font(self.main_font, "B" if style.bold else "", style.size * self.scale)
        self.set_text_color(*style.colour)

    def measure(self, text: str) -> float:
        key = (self.font_style, self.font_size_pt, text)
        if key not in self._widths:
            self._widths[key] = self.get_string_width(text)
        return self._widths[key]

    def wrap(self, text: str, style: Style, width: float) -> list[str]:
        """``text`` broken into lines no wider than ``width`` (mm) in ``style``."""
        self.style(style)
        room = width * 0.98  # shaping joins letters: leave a little slack
        lines: list[str] = []
        for paragraph in text.split("\n"):
            current: list[str] = []
            used = 0.0
            for word in paragraph.split():
                for piece in self._pieces(word, room):
                    size = self.measure(piece)
                    wanted = size if not current else used + self.measure(" ") + size
                    if current and wanted > room:
                        lines.append(" ".join(current))
                        current, used = [piece], size
                    else:
                        current.append(piece)
                        used = wanted
            lines.append(" ".join(current))
        return lines

    def _pieces(self, word: str, room: float) -> Iterator[str]:
        """A word wider than a line, cut where it must be (a long web address)."""
        if self.measure(word) <= room:
            yield word
            return
        piece = ""
        for char in word:
            if piece and self.get_string_width(piece + char) > room:
                yield piece
                piece = ""
            piece += char
        if piece:
            yield piece

    def block_height(self, text: str, style: Style) -> float:
        return len(self.wrap(text, style, self.width)) * style.leading

    def write_block(self, text: str, style: Style) -> None:
        """A paragraph across the text width, aligned to the language's side."""
        for line in self.wrap(text, style, self.width):
            self.style(style)
            self.cell(0, style.leading, line, align=self.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def rule(self, colour: Colour, width: float) -> None:
        self.set_draw_color(*colour)
        self.set_line_width(width)
        y = self.get_y()
        self.line(self.l_margin, y, self.w - self.r_margin, y)

    def footer(self) -> None:
        self.set_y(-12)
        self.style(Style(8, colour=MUTED))
        page = self.shown.words["page"].format(page=self.page_no())
        self.cell(0, 6, f"{BRAND} · {page}", align="C")


def render_pdf(portfolio: Portfolio, language: str) -> bytes:
    """The portfolio's PDF in ``language``."""
    shown = view(portfolio, language)
    pdf = _Document(shown)
    pdf.add_page()
    _cover(pdf, shown)
    _pairs(pdf, shown)
    for group in shown.groups:
        if not group.profiles and not group.unattached:
            _section(pdf, group.heading, [(shown.words["no_profiles"], BODY_MUTED)])
        for number, profile in enumerate(group.profiles):
            _profile(pdf, shown, profile, group.heading if number == 0 else None)
        if group.unattached:
            lines = [(f"• {person.name} — {person.title}", BODY) for person in group.unattached]
            _section(pdf, group.unattached_heading, lines[:3])
            for line in lines[3:]:
                pdf.write_block(*line)
    return bytes(pdf.output())


def _needs_shaping(shown: PortfolioView) -> bool:
    """Whether any text is in a script that needs shaping or runs right to left (Latin
    text alone is laid out faster without HarfBuzz, and looks the same)."""
    return any(
        unicodedata.bidirectional(char) in ("R", "AL", "AN") or unicodedata.combining(char)
        for text in _texts(shown)
        for char in text
    )


def _texts(shown: PortfolioView) -> Iterator[str]:
    yield shown.name
    yield from (fact.value for fact in shown.facts)
    for pair in shown.pairs:
        yield from (pair.mentor.name, pair.mentor.detail, pair.mentee.name, pair.mentee.detail)
    for group in shown.groups:
        yield from (f"{person.name} {person.title}" for person in group.unattached)
    for profile in (profile for group in shown.groups for profile in group.profiles):
        yield profile.heading
        yield profile.description or ""
        yield profile.website or ""
        yield from (fact.value for fact in profile.facts)
        yield from (f"{person.name} {person.title}" for person in profile.people)


def _cover(pdf: _Document, shown: PortfolioView) -> None:
    pdf.set_fill_color(*ACCENT)
    title = Style(20, bold=True, colour=WHITE)
    subtitle = Style(12, colour=WHITE)
    band = 16 + 5 + pdf.block_height(shown.name, title) + subtitle.leading + 8
    pdf.rect(0, 0, pdf.w, band, style="F")
    pdf.set_y(18)
    pdf.write_block(BRAND, Style(9, colour=(222, 240, 241)))
    pdf.ln(1)
    pdf.write_block(shown.name, title)
    pdf.write_block(shown.words["title"], subtitle)
    pdf.set_y(band + 6)
    for fact in shown.facts:
        pdf.write_block(f"{fact.label}: {fact.value}", Style(10))
        pdf.ln(0.8)
    pdf.ln(1.5)
    pdf.write_block(shown.summary, Style(10, colour=MUTED))


def _section(
    pdf: _Document, title: str, then: Sequence[tuple[str, Style]] = (), reserve: float = 0
) -> None:
    """A section's heading and what follows it (``then``, and ``reserve`` mm more for
    what the caller draws next), kept on one page."""
    heading = Style(14, bold=True, colour=ACCENT)
    needed = 5 + pdf.block_height(title, heading) + 4 + reserve
    needed += sum(pdf.block_height(text, style) for text, style in then)
    if pdf.get_y() + needed > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(5)
    pdf.write_block(title, heading)
    pdf.ln(1)
    pdf.rule(ACCENT, 0.6)
    pdf.ln(3)
    for text, style in then:
        pdf.write_block(text, style)


def _pairs(pdf: _Document, shown: PortfolioView) -> None:
    """Who is matched with whom: a two-column table (mentor, mentee; mirrored in
    Arabic), a row per pair, each row kept on one page."""
    words = shown.words
    if not shown.pairs:
        _section(pdf, words["pairs"], [(words["no_pairs"], BODY_MUTED)])
        return
    gap = 4.0
    column = (pdf.width - gap) / 2
    header = Style(9, bold=True, colour=ACCENT)
    name, detail = Style(9.5, bold=True), Style(8.5, colour=MUTED)

    def cells(left: list[tuple[str, Style]], right: list[tuple[str, Style]]) -> list[Cell]:
        first, second = (right, left) if pdf.rtl else (left, right)
        return [
            Cell(pdf.l_margin, _lines(pdf, first, column)),
            Cell(pdf.l_margin + column + gap, _lines(pdf, second, column)),
        ]

    titles = cells([(words["mentor"], header)], [(words["mentee"], header)])
    _section(pdf, words["pairs"], reserve=2 * max(cell.height for cell in titles) + 12)
    _row(pdf, titles, fill=SOFT)
    for pair in shown.pairs:
        _row(
            pdf,
            cells(
                [(pair.mentor.name, name), (pair.mentor.detail, detail)],
                [(pair.mentee.name, name), (pair.mentee.detail, detail)],
            ),
        )


@dataclass(frozen=True)
class Cell:
    x: float
    lines: list[tuple[str, Style]]

    @property
    def height(self) -> float:
        return sum(style.leading for _, style in self.lines)


def _lines(pdf: _Document, texts: list[tuple[str, Style]], width: float) -> list[tuple[str, Style]]:
    return [(line, style) for text, style in texts for line in pdf.wrap(text, style, width)]


def _row(pdf: _Document, cells: list[Cell], fill: Colour | None = None) -> None:
    padding = 1.6
    height = max(cell.height for cell in cells) + 2 * padding
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()
    top = pdf.get_y()
    if fill is not None:
        pdf.set_fill_color(*fill)
        pdf.rect(pdf.l_margin, top, pdf.width, height, style="F")
    column = (pdf.width - 4) / 2
    for cell in cells:
        pdf.set_xy(cell.x, top + padding)
        for text, style in cell.lines:
            pdf.style(style)
            pdf.set_x(cell.x)
            pdf.cell(column, style.leading, text, align=pdf.align, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_y(top + height)
    pdf.rule(LINE, 0.2)


def _profile(
    pdf: _Document, shown: PortfolioView, profile: ProfileView, section: str | None
) -> None:
    """One cluster's profile, kept whole on a page (with its section's heading if it is
    the first of the section)."""
    words = shown.words
    lines: list[tuple[str, Style]] = [(profile.heading, Style(12, bold=True, colour=ACCENT))]
    if profile.inactive:
        lines.append((words["inactive"], Style(9, colour=WARNING)))
    facts = [(fact.label, fact.value) for fact in profile.facts]
    if profile.website:
        facts.append((words["website"], profile.website))
    lines += [(f"{label}: {value}", BODY) for label, value in facts]
    if profile.description:
        lines.append((profile.description, BODY_MUTED))
    lines.append((f"{words['people']}:", STRONG))
    lines += [(f"• {person.name} — {person.title}", BODY) for person in profile.people]
    height = sum(pdf.block_height(text, style) for text, style in lines) + 6
    if section is not None:
        _section(pdf, section, reserve=height)
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(2)
    for text, style in lines:
        pdf.write_block(text, style)
        if style is BODY_MUTED:
            pdf.ln(1)
    pdf.ln(2)
    pdf.rule(LINE, 0.2)
