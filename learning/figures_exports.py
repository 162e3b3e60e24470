"""The learning titles' figures of a branch and year as an Excel workbook (one sheet per
title, written by khuyenhoc.xlsx) and as a PDF table (fpdf2, DejaVu fonts: every
Vietnamese letter). The same table as the page: the branch's line, then its children."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from fpdf import FPDF

from khuyenhoc.xlsx import Sheet
from learning.figures import RATE_ON_ELIGIBLE, RATE_ON_REGISTERED, FiguresPanel, Rate, TitleFigures

logging.getLogger("fontTools").setLevel(logging.WARNING)  # fpdf2's subsetting logs every glyph


def report_title(panel: FiguresPanel) -> str:
    return _("Learning titles in %(year)s — %(branch)s") % {"year": panel.year or "", "branch": panel.branch.name}


def report_filename(panel: FiguresPanel, extension: str) -> str:
    return f"danh-hieu-hoc-tap-{panel.branch.pk}-{panel.year or 'chua-co'}.{extension}"


def headers() -> list[str]:
    return [
        _("Branch"),
        _("Eligible total"),
        _("Registered"),
        _("Evaluated"),
        _("Recognised"),
        _("Recognised, %(base)s (%%)") % {"base": RATE_ON_REGISTERED},
        _("Recognised, %(base)s (%%)") % {"base": RATE_ON_ELIGIBLE},
    ]


def _lines(item) -> list[TitleFigures]:
    return [item.total, *item.children]


# --- Excel ------------------------------------------------------------------------------------
def _rate_cell(rate: Rate) -> float | None:
    return None if rate.percent is None else float(rate.percent)


def figures_sheets(panel: FiguresPanel) -> list[Sheet]:
    """One sheet per title: the title, the branch and year, then the branch's line and one per child."""
    sheets = []
    for index, item in enumerate(panel.kinds, start=1):
        rows = [
            [
                figures.branch.name,
                figures.eligible,
                figures.registered,
                figures.evaluated,
                figures.recognised,
                _rate_cell(figures.rate_on_registered),
                _rate_cell(figures.rate_on_eligible),
            ]
            for figures in _lines(item)
        ]
        heading = [[item.kind.name], [_("Branch"), panel.branch.name], [_("Year"), panel.year]]
        sheets.append(Sheet(f"{index}. {item.kind.name}", headers(), rows, heading=heading, widths={1: 40}))
    return sheets or [Sheet(_("No figures"), [], [])]


# --- PDF --------------------------------------------------------------------------------------
FONT = "DejaVu"
WIDTHS = (71, 28, 28, 28, 28, 44, 44)  # A4 landscape, 15 mm margins: 267 mm


def _num(value: int) -> str:
    return number_format(value, force_grouping=True)


def _pct(rate: Rate) -> str:
    return "—" if rate.percent is None else f"{number_format(rate.percent, 2)} %"


def _row(pdf: FPDF, cells: list[str], *, bold: bool = False) -> None:
    pdf.set_font(FONT, "B" if bold else "", 8)
    if pdf.get_y() + 7 > pdf.h - 15:
        pdf.add_page()
    for index, (width, text) in enumerate(zip(WIDTHS, cells, strict=True)):
        pdf.cell(width, 7, text[:48] if index == 0 else text, border=1, align="L" if index == 0 else "R")
    pdf.ln(7)


def figures_pdf(panel: FiguresPanel) -> bytes:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    font_dir = settings.PDF_FONT_DIR
    pdf.add_font(FONT, "", str(font_dir / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(font_dir / "DejaVuSans-Bold.ttf"))
    title = report_title(panel)
    pdf.set_title(title)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 8, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if not panel.kinds:
        pdf.set_font(FONT, "", 10)
        pdf.cell(0, 6, _("No figures have been computed for this branch yet."), new_x="LMARGIN", new_y="NEXT")
    for item in panel.kinds:
        pdf.set_font(FONT, "B", 11)
        if pdf.get_y() + 30 > pdf.h - 15:
            pdf.add_page()
        pdf.cell(0, 8, item.kind.name, new_x="LMARGIN", new_y="NEXT")
        _row(pdf, headers(), bold=True)
        for number, figures in enumerate(_lines(item)):
            _row(
                pdf,
                [
                    figures.branch.name,
                    _num(figures.eligible),
                    _num(figures.registered),
                    _num(figures.evaluated),
                    _num(figures.recognised),
                    _pct(figures.rate_on_registered),
                    _pct(figures.rate_on_eligible),
                ],
                bold=number == 0,
            )
        pdf.ln(4)
    return bytes(pdf.output())
