"""The printable receipt of a donation: an A5 PDF drawn with fpdf2 in DejaVu Sans, whose
glyphs cover Vietnamese (ă â đ ê ô ơ ư with every tone mark) and the đồng sign ₫."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from funds.models import Donation
from funds.words import amount_in_words
from khuyenhoc.money import format_money
from khuyenhoc.templatetags.people import person_name

FONT = "DejaVu"


def _pdf() -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format=(148, 210))  # A5
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_margins(12, 12, 12)
    font_dir = settings.PDF_FONT_DIR
    pdf.add_font(FONT, "", str(font_dir / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(font_dir / "DejaVuSans-Bold.ttf"))
    pdf.set_creator("Khuyến học portal")
    return pdf


def _line(pdf: FPDF, label: str, value: str, *, bold: bool = False) -> None:
    pdf.set_font(FONT, "", 10)
    pdf.cell(38, 7, label + ":", new_x="RIGHT", new_y="TOP")
    pdf.set_font(FONT, "B" if bold else "", 10)
    pdf.multi_cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")


def donation_receipt_pdf(donation: Donation) -> bytes:
    """One page per donation; a voided donation's receipt says so across the page."""
    fund = donation.fund
    pdf = _pdf()
    pdf.set_title(_("Receipt %(number)s") % {"number": donation.receipt_label})
    pdf.add_page()

    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(0, 5, str(fund.branch).upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(0, 5, str(fund), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, "B", 15)
    pdf.cell(0, 9, _("DONATION RECEIPT"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.cell(
        0,
        6,
        _("No. %(number)s — %(day)s") % {"number": donation.receipt_label, "day": f"{donation.received_on:%d/%m/%Y}"},
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)

    _line(pdf, _("Received from"), donation.donor_name, bold=True)
    _line(pdf, _("Donor kind"), donation.get_donor_kind_display())
    if donation.organization_id:
        _line(pdf, _("Organisation"), str(donation.organization))
    _line(pdf, _("Amount"), format_money(donation.amount), bold=True)
    _line(pdf, _("In words"), amount_in_words(donation.amount))
    _line(pdf, _("Method"), donation.get_method_display())
    if donation.in_kind_description:
        _line(pdf, _("Goods given"), donation.in_kind_description)
    _line(pdf, _("Into fund"), str(fund))
    if donation.note:
        _line(pdf, _("Note"), donation.note)

    if donation.is_voided:
        pdf.ln(2)
        pdf.set_text_color(180, 0, 0)
        pdf.set_font(FONT, "B", 12)
        pdf.multi_cell(
            0,
            7,
            _("VOIDED on %(day)s: %(reason)s")
            % {"day": f"{timezone.localtime(donation.voided_at):%d/%m/%Y}", "reason": donation.void_reason},
            align="C",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_text_color(0, 0, 0)

    pdf.ln(6)
    pdf.set_font(FONT, "", 9)
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    pdf.cell(width, 5, _("Day %(day)s") % {"day": f"{donation.received_on:%d/%m/%Y}"}, align="C")
    pdf.cell(width, 5, "", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 10)
    pdf.cell(width, 6, _("Donor"), align="C")
    pdf.cell(width, 6, _("Received by"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8)
    pdf.cell(width, 4, _("(signature, full name)"), align="C")
    pdf.cell(width, 4, _("(signature, full name)"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(16)
    pdf.set_font(FONT, "", 10)
    pdf.cell(width, 5, donation.donor_name, align="C")
    clerk = donation.created_by
    pdf.cell(
        width,
        5,
        person_name(clerk) if clerk else "",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
