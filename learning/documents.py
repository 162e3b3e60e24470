"""The documents of a recognition decision: the certificate (giấy công nhận) of each
recognised subject, and the decision's annex, the list of the subjects it recognises, as a
PDF and as an Excel sheet. Pure functions over the models; the views only fetch and send.

Rules decided here where the texts are silent:
- The documents are Vietnamese administrative papers, so their wording is the fixed
  Vietnamese form (the national motto, "GIẤY CÔNG NHẬN", "Theo Quyết định số …"), printed
  the same whatever the reader's interface language, like the names and numbers they carry.
- Dates follow Decree 30/2020/NĐ-CP on the format of administrative documents: "ngày 05
  tháng 02 năm 2025" (a zero before a day under 10 and before months 1 and 2), and the
  place before the date is the administrative unit's name without its type ("Phúc Xá",
  "Hà Nội"), except a unit named by a number ("Phường 5").
- The list is ordered by branch, then by name in Vietnamese order; it is read in one query
  (the subject, its evaluation and the branch joined), whatever the number of subjects.
- Personal data (associations/privacy.py): the list gives a citizen's year of birth only,
  never the citizen ID; the certificate prints the full date of birth only when asked for
  by a caller whose user sees personal data in full.
- A long name wraps: on the certificate its type size shrinks to keep it on at most two
  lines, and past the smallest size it simply takes more lines; nothing is cut.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils.text import slugify
from fpdf import FPDF
from fpdf.enums import MethodReturnValue

from khuyenhoc.db import vietnamese_order
from khuyenhoc.text import search_key
from khuyenhoc.xlsx import Sheet
from learning.models import SUBJECT_FIELDS, Decision, Registration, Stage, SubjectType

# fpdf2's font subsetting (fontTools) logs every glyph at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT = "DejaVu"
RED = (165, 28, 28)
BLACK = (0, 0, 0)

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_LINE = "Độc lập - Tự do - Hạnh phúc"
CERTIFICATE = "GIẤY CÔNG NHẬN"

# The plural noun of the list's title, by what the title is awarded to.
LIST_SUBJECTS = {
    SubjectType.HOUSEHOLD: "HỘ GIA ĐÌNH",
    SubjectType.CLAN: "DÒNG HỌ",
    SubjectType.COMMUNITY: "THÔN, TỔ DÂN PHỐ",
    SubjectType.UNIT: "ĐƠN VỊ",
    SubjectType.CITIZEN: "CÔNG DÂN",
}
# The name column's header, by the same.
NAME_HEADERS = {
    SubjectType.HOUSEHOLD: "Chủ hộ",
    SubjectType.CLAN: "Dòng họ",
    SubjectType.COMMUNITY: "Thôn, tổ dân phố",
    SubjectType.UNIT: "Tên đơn vị",
    SubjectType.CITIZEN: "Họ và tên",
}
# The field of each subject model that names it, for the order of the list.
NAME_FIELDS = {
    SubjectType.HOUSEHOLD: "head_name",
    SubjectType.CLAN: "name",
    SubjectType.COMMUNITY: "name",
    SubjectType.UNIT: "name",
    SubjectType.CITIZEN: "full_name",
}
# Administrative unit types, longest first, stripped from a place name before the date.
PLACE_PREFIXES = ("thành phố ", "thị trấn ", "thị xã ", "đặc khu ", "phường ", "huyện ", "quận ", "tỉnh ", "xã ")


# --- Wording -----------------------------------------------------------------------------------
def dmy(day: date | None) -> str:
    return f"{day:%d/%m/%Y}" if day else ""


def long_date(day: date) -> str:
    """'ngày 15 tháng 11 năm 2025', 'ngày 05 tháng 02 năm 2025' (Decree 30/2020/NĐ-CP)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def place_name(branch_name: str) -> str:
    """'Phường Phúc Xá' → 'Phúc Xá', 'Thành phố Hà Nội' → 'Hà Nội', 'Phường 5' stays."""
    name = " ".join(branch_name.split())
    lowered = name.lower()
    for prefix in PLACE_PREFIXES:
        if lowered.startswith(prefix):
            rest = name[len(prefix) :]
            return name if rest.isdigit() else rest
    return name


def decision_line(decision: Decision) -> str:
    return f"Theo Quyết định số {decision.number} {long_date(decision.decided_on)} của {decision.body}"


def list_title(decision: Decision) -> str:
    kind = decision.kind
    noun = LIST_SUBJECTS.get(kind.subject_type, "")
    return f"DANH SÁCH {noun} ĐƯỢC CÔNG NHẬN DANH HIỆU {kind.name.upper()} NĂM {decision.year}"


def list_subtitle(decision: Decision) -> str:
    return f"(Kèm theo Quyết định số {decision.number} {long_date(decision.decided_on)} của {decision.body})"


def slug(text: str) -> str:
    """'123/QĐ-UBND' → '123-qd-ubnd': a file name part without diacritics (đ included)."""
    return slugify(search_key(text).replace("/", "-")) or "x"


def certificate_filename(registration: Registration) -> str:
    kind = registration.kind
    return f"giay-cong-nhan-{slug(kind.abbreviation or kind.code)}-{registration.year}-{registration.pk}.pdf"


def decision_list_filename(decision: Decision, extension: str) -> str:
    return f"danh-sach-cong-nhan-{slug(decision.number)}.{extension}"


# --- Subjects ----------------------------------------------------------------------------------
def _clan_name(name: str) -> str:
    return name if search_key(name).startswith(("dong ho ", "ho ")) else f"Dòng họ {name}"


def certificate_subject(registration: Registration, *, full_birth_date: bool = False) -> tuple[str, str]:
    """The two lines that name the subject on its certificate: who, then where (or born when)."""
    subject = registration.subject
    match registration.kind.subject_type:
        case SubjectType.HOUSEHOLD:
            return f"Gia đình ông/bà {subject.head_name}", f"Địa chỉ: {subject.address}"
        case SubjectType.CLAN:
            return _clan_name(subject.name), f"Nơi cư trú: {subject.residence}" if subject.residence else ""
        case SubjectType.COMMUNITY:
            return subject.name, subject.branch.name
        case SubjectType.UNIT:
            return subject.name, f"Địa chỉ: {subject.address}" if subject.address else ""
        case SubjectType.CITIZEN:
            born = ""
            if subject.date_of_birth:
                born = (
                    f"Ngày sinh: {dmy(subject.date_of_birth)}"
                    if full_birth_date
                    else f"Năm sinh: {subject.date_of_birth.year}"
                )
            return f"Ông/bà {subject.full_name}", born
    return str(subject), ""


def _list_name_and_details(subject_type: str, subject) -> tuple[str, str]:
    match subject_type:
        case SubjectType.HOUSEHOLD:
            return subject.head_name, subject.address
        case SubjectType.CLAN:
            representative = f"Đại diện: {subject.representative}" if subject.representative else ""
            return subject.name, "; ".join(part for part in (subject.residence, representative) if part)
        case SubjectType.COMMUNITY:
            return subject.name, f"{subject.households} hộ" if subject.households else ""
        case SubjectType.UNIT:
            return subject.name, subject.address
        case SubjectType.CITIZEN:
            return subject.full_name, f"Sinh năm {subject.date_of_birth.year}" if subject.date_of_birth else ""
    return str(subject), ""


# --- The list ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListRow:
    number: int
    name: str
    details: str
    branch: str
    points: int | None
    level: str


LIST_HEADERS_AFTER_NAME = ("Địa chỉ, thông tin", "Chi hội, xã/phường", "Tổng điểm", "Xếp loại")


def list_headers(decision: Decision) -> list[str]:
    return ["STT", NAME_HEADERS.get(decision.kind.subject_type, "Tên"), *LIST_HEADERS_AFTER_NAME]


def decision_registrations(decision: Decision):
    """The registrations a decision recognises, with what the list shows: one query."""
    subject_type = decision.kind.subject_type
    field = SUBJECT_FIELDS.get(subject_type)
    related = ["branch", *([field] if field else [])]
    queryset = (
        Registration.objects.filter(decision=decision, stage=Stage.RECOGNISED)
        .select_related(*related)
        .select_related("evaluation")
    )
    order = ["branch__path"]
    if field:
        order.append(vietnamese_order(f"{field}__{NAME_FIELDS[subject_type]}"))
    return queryset.order_by(*order, "pk")


def decision_list(decision: Decision) -> list[ListRow]:
    subject_type = decision.kind.subject_type
    rows = []
    for number, registration in enumerate(decision_registrations(decision), start=1):
        name, details = _list_name_and_details(subject_type, registration.subject)
        evaluation = getattr(registration, "evaluation", None)
        rows.append(
            ListRow(
                number=number,
                name=name,
                details=details,
                branch=registration.branch.name,
                points=evaluation.total_points if evaluation else None,
                level=evaluation.level if evaluation else "",
            )
        )
    return rows


def decision_list_sheets(decision: Decision) -> list[Sheet]:
    """The annex as one sheet for khuyenhoc.xlsx.xlsx_response."""
    heading = [
        [list_title(decision)],
        [list_subtitle(decision)],
    ]
    rows = ([r.number, r.name, r.details, r.branch, r.points, r.level] for r in decision_list(decision))
    return [
        Sheet(
            "Danh sách công nhận",
            list_headers(decision),
            rows,
            heading=heading,
            widths={1: 6, 2: 32, 3: 42, 4: 26, 5: 11, 6: 14},
        )
    ]


# --- PDF ---------------------------------------------------------------------------------------
def _add_fonts(pdf: FPDF) -> None:
    font_dir = settings.PDF_FONT_DIR
    pdf.add_font(FONT, "", str(font_dir / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(font_dir / "DejaVuSans-Bold.ttf"))
    pdf.add_font(FONT, "I", str(font_dir / "DejaVuSans-Oblique.ttf"))
    pdf.set_creator("Khuyến học portal")


def _lines(pdf: FPDF, text: str, width: float) -> int:
    return len(pdf.multi_cell(width, 1, text, dry_run=True, output=MethodReturnValue.LINES))


def _fitted(pdf: FPDF, text: str, *, width: float, style: str, size: float, smallest: float, max_lines: int = 2):
    """Set the largest type size, from `size` down to `smallest`, that keeps the text on at
    most `max_lines` lines; below `smallest` it wraps onto more lines."""
    while True:
        pdf.set_font(FONT, style, size)
        if size <= smallest or _lines(pdf, text, width) <= max_lines:
            return
        size -= 1


def _centred(pdf: FPDF, text: str, *, x: float, width: float, style: str, size: float, smallest: float) -> None:
    if not text:
        return
    _fitted(pdf, text, width=width, style=style, size=size, smallest=smallest)
    pdf.set_x(x)
    pdf.multi_cell(width, pdf.font_size * 1.35, text, align="C", new_x="LMARGIN", new_y="NEXT")


def _place(decision: Decision) -> str:
    branch = decision.branch
    if not branch.is_administrative:
        administrative = [b for b in branch.ancestors_and_self() if b.is_administrative]
        if administrative:
            branch = administrative[-1]
    return place_name(branch.name)


def certificate_pdf(registration: Registration, *, full_birth_date: bool = False) -> bytes:
    """The certificate of one recognised registration: one A4 landscape page.

    A citizen's date of birth is printed in full only with `full_birth_date` (for the roles
    that see personal data, associations.privacy.sees_personal_data); otherwise its year."""
    decision = registration.decision
    if decision is None or registration.stage != Stage.RECOGNISED:
        raise ValueError("Only a recognised registration has a certificate.")
    kind = registration.kind

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    _add_fonts(pdf)
    pdf.set_title(f"{CERTIFICATE} {kind.name} {registration.year}")
    # A page break would only come from absurdly long texts: better a second page than lost text.
    pdf.set_auto_page_break(auto=True, margin=10)
    pdf.set_margins(20, 16, 20)
    pdf.add_page()

    # A thin double border.
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.6)
    pdf.rect(8, 8, pdf.w - 16, pdf.h - 16)
    pdf.set_line_width(0.25)
    pdf.rect(10.5, 10.5, pdf.w - 21, pdf.h - 21)
    pdf.set_draw_color(*BLACK)

    left, width = pdf.l_margin, pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_y(16)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 6, MOTTO, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, MOTTO_LINE, align="C", new_x="LMARGIN", new_y="NEXT")
    underline = pdf.get_string_width(MOTTO_LINE)
    pdf.set_line_width(0.3)
    pdf.line(pdf.w / 2 - underline / 2, pdf.get_y() + 0.5, pdf.w / 2 + underline / 2, pdf.get_y() + 0.5)
    pdf.ln(4)

    _centred(pdf, decision.body.upper(), x=left, width=width, style="B", size=13, smallest=10)
    pdf.ln(4)
    pdf.set_text_color(*RED)
    pdf.set_font(FONT, "B", 28)
    pdf.cell(0, 13, CERTIFICATE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 13)
    pdf.set_text_color(*BLACK)
    pdf.cell(0, 6, "Danh hiệu", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*RED)
    _centred(pdf, kind.name.upper(), x=left, width=width, style="B", size=30, smallest=16)
    pdf.set_text_color(*BLACK)
    pdf.set_font(FONT, "B", 15)
    pdf.cell(0, 8, f"Năm {registration.year}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    who, where = certificate_subject(registration, full_birth_date=full_birth_date)
    _centred(pdf, who, x=left, width=width, style="B", size=18, smallest=11)
    _centred(pdf, where, x=left, width=width, style="", size=13, smallest=9)
    pdf.ln(4)
    _centred(pdf, decision_line(decision), x=left, width=width, style="I", size=12, smallest=9)

    # The place, the date and the signature, in the right half, from a fixed height down.
    column_x, column_width = pdf.w / 2 + 10, pdf.w / 2 - 10 - pdf.r_margin
    pdf.set_y(max(pdf.get_y() + 3, 143))
    _centred(
        pdf,
        f"{_place(decision)}, {long_date(decision.decided_on)}",
        x=column_x,
        width=column_width,
        style="I",
        size=12,
        smallest=9,
    )
    _centred(pdf, decision.signer_title.upper(), x=column_x, width=column_width, style="B", size=12, smallest=9)
    pdf.ln(18)
    _centred(pdf, decision.signer, x=column_x, width=column_width, style="B", size=13, smallest=10)
    return bytes(pdf.output())


class _ListReport(FPDF):
    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.cell(0, 5, f"Trang {self.page_no()}/{{nb}}", align="C")


class _FastTable:
    """A bordered table drawn line by line with `text()`, wrapping words with cached widths.

    fpdf2's own table measures every character of every cell twice (about 13 ms a row): a
    decision of a few thousand households took most of a minute. Vietnamese names reuse a
    few thousand syllables, so caching word widths makes the wrapping nearly free. A row
    that does not fit on the page starts the next one, under the repeated header row.
    """

    PAD_X, PAD_Y, LINE = 1.2, 1.0, 4.2
    SIZE = 9

    def __init__(self, pdf: FPDF, widths: tuple[float, ...], aligns: tuple[str, ...]):
        self.pdf, self.widths, self.aligns = pdf, widths, aligns
        self._width_cache: dict[tuple[str, str], float] = {}
        self.header: list[str] = []

    def _width(self, style: str, text: str) -> float:
        key = (style, text)
        if key not in self._width_cache:
            self._width_cache[key] = self.pdf.get_string_width(text)
        return self._width_cache[key]

    def _wrap(self, style: str, text: str, width: float) -> list[str]:
        space = self._width(style, " ")
        lines: list[str] = []
        for paragraph in text.splitlines() or [""]:
            line: list[str] = []
            line_width = 0.0
            for word in paragraph.split():
                pieces = [word]
                if self._width(style, word) > width:  # a word wider than the column: cut it
                    pieces, piece = [], ""
                    for char in word:
                        if piece and self._width(style, piece + char) > width:
                            pieces.append(piece)
                            piece = ""
                        piece += char
                    pieces.append(piece)
                for piece in pieces:
                    piece_width = self._width(style, piece)
                    if line and line_width + space + piece_width <= width:
                        line.append(piece)
                        line_width += space + piece_width
                    else:
                        if line:
                            lines.append(" ".join(line))
                        line, line_width = [piece], piece_width
            lines.append(" ".join(line))
        return lines

    def _row(self, cells: list[str], *, style: str, fill: bool) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, style, self.SIZE)
        wrapped = [
            self._wrap(style, unicodedata.normalize("NFC", cell), width - 2 * self.PAD_X)
            for cell, width in zip(cells, self.widths, strict=True)
        ]
        height = max(len(lines) for lines in wrapped) * self.LINE + 2 * self.PAD_Y
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            if not fill:
                self._row(self.header, style="B", fill=True)
                pdf.set_font(FONT, style, self.SIZE)
        top, x = pdf.get_y(), pdf.l_margin
        font_size = pdf.font_size
        for lines, width, align in zip(wrapped, self.widths, self.aligns, strict=True):
            pdf.rect(x, top, width, height, style="DF" if fill else "D")
            first = top + (height - len(lines) * self.LINE) / 2
            for number, line in enumerate(lines):
                baseline = first + number * self.LINE + (self.LINE - font_size) / 2 + 0.8 * font_size
                if align == "C":
                    left = x + (width - self._width(style, line)) / 2
                elif align == "R":
                    left = x + width - self.PAD_X - self._width(style, line)
                else:
                    left = x + self.PAD_X
                if line:
                    pdf.text(left, baseline, line)
            x += width
        pdf.set_xy(pdf.l_margin, top + height)

    def add_header(self, cells: list[str]) -> None:
        self.header = cells
        self.pdf.set_fill_color(230, 230, 230)
        self._row(cells, style="B", fill=True)

    def add(self, cells: list[str]) -> None:
        self._row(cells, style="", fill=False)


def decision_list_pdf(decision: Decision) -> bytes:
    """The decision's annex: A4 portrait, the header row on every page, no row cut in two."""
    pdf = _ListReport(orientation="P", unit="mm", format="A4")
    _add_fonts(pdf)
    pdf.set_title(list_title(decision))
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_margins(15, 15, 15)
    pdf.alias_nb_pages()
    pdf.add_page()

    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(width, 6, list_title(decision), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "I", 10)
    pdf.multi_cell(width, 5, list_subtitle(decision), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    rows = decision_list(decision)
    pdf.set_line_width(0.2)
    table = _FastTable(pdf, widths=(10, 42, 52, 38, 17, 21), aligns=("C", "L", "L", "L", "C", "C"))
    table.add_header(list_headers(decision))
    for row in rows:
        points = "" if row.points is None else str(row.points)
        table.add([str(row.number), row.name, row.details, row.branch, points, row.level])
    if not rows:
        pdf.ln(3)
        pdf.set_font(FONT, "I", 10)
        pdf.cell(0, 6, "Quyết định chưa công nhận ai.", align="C")
    return bytes(pdf.output())
