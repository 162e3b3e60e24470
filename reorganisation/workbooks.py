"""The decisions workbook: the undecided items of a reorganisation as an .xlsx with a column
to fill (the successor's code; for an account, its action), and reading it back.

The headers are the file format, in Vietnamese like every workbook of the portal. Reading
it back writes every decision or none: each bad row is named (its Excel row number).
"""

from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from associations.models import Reorganisation
from khuyenhoc.xlsx import Sheet
from reorganisation import services
from reorganisation.models import AccountAction, ReorganisationDecision
from reorganisation.tables import _header_key, _text

HEADERS = (
    "Loại bản ghi",
    "Mã bản ghi",
    "Đơn vị cũ",
    "Mã đơn vị cũ",
    "Bản ghi",
    "Đơn vị mới theo bảng",
    "Mã đơn vị mới (điền)",
    "Tài khoản: move / city_read_only / deactivate",
)
KEYS = ("record_type", "record_id", None, None, None, None, "successor_code", "account_action")
CHUNK = 1000
MAX_ERRORS = 50


def decisions_sheet(reorganisation: Reorganisation) -> Sheet:
    """The undecided items, one row each, streamed (see services.iter_undecided_items)."""
    rows = (
        (
            item["record_type"],
            str(item["record_id"]),
            item["unit"],
            item["unit_code"],
            item["label"],
            item["successors"],
            "",
            "",
        )
        for item in services.iter_undecided_items(reorganisation)
    )
    return Sheet(
        title=_("Decisions"),
        headers=HEADERS,
        rows=rows,
        heading=[[_("Reorganisation: %(name)s") % {"name": reorganisation.name}]],
    )


def _columns(row) -> dict[str, int] | None:
    keys = [_header_key(cell) for cell in row]
    wanted = {key: _header_key(header) for key, header in zip(KEYS, HEADERS, strict=True) if key}
    positions = {}
    for key, header in wanted.items():
        for index, cell in enumerate(keys):
            if cell == header:
                positions[key] = index
    return positions if len(positions) == len(wanted) else None


@transaction.atomic
def decisions_import(*, actor, reorganisation: Reorganisation, data: bytes) -> int:
    """Read a filled decisions workbook back: every row with a code or an action becomes that
    item's decision. All or nothing; returns how many decisions it set."""
    services._check(actor)
    services._require_draft(reorganisation)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise ValidationError(_("The file cannot be read as an Excel workbook (.xlsx).")) from error
    codes = services.valid_successor_codes(reorganisation)
    errors: list[str] = []
    positions = None
    chunk: list[tuple[int, dict]] = []
    decided = 0

    def flush():
        nonlocal decided
        keys = {(values["record_type"], values["record_id"]) for _number, values in chunk}
        found = {
            (d.record_type, d.record_id): d
            for d in ReorganisationDecision.objects.filter(
                reorganisation=reorganisation,
                record_type__in={k for k, _i in keys},
                record_id__in={i for _k, i in keys},
            )
        }
        changed = []
        for number, values in chunk:
            decision = found.get((values["record_type"], values["record_id"]))
            if decision is None:
                errors.append(_("Row %(row)s: this record is not on the decision list.") % {"row": number})
                continue
            code, action = values["successor_code"], values["account_action"]
            if action and decision.record_type != "associations.staffprofile":
                errors.append(_("Row %(row)s: only an account takes an action.") % {"row": number})
                continue
            if action in {AccountAction.CITY_READ_ONLY, AccountAction.DEACTIVATE}:
                code = ""
            elif code not in codes:
                errors.append(
                    _("Row %(row)s: no unit with code %(code)s will be in force on %(day)s.")
                    % {"row": number, "code": code, "day": reorganisation.effective_on.strftime("%d/%m/%Y")}
                )
                continue
            elif decision.record_type == "associations.staffprofile":
                action = action or AccountAction.MOVE
            decision.successor_code, decision.account_action = code, action
            changed.append(decision)
        ReorganisationDecision.objects.bulk_update(changed, ["successor_code", "account_action"], batch_size=1000)
        decided += len(changed)
        chunk.clear()

    for number, row in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
        if positions is None:
            positions = _columns(row)
            continue
        values = {key: _text(row[index]) if index < len(row) else "" for key, index in positions.items()}
        if not values["successor_code"] and not values["account_action"]:
            continue  # not filled in: stays undecided
        if values["account_action"] and values["account_action"] not in AccountAction.values:
            errors.append(
                _("Row %(row)s: unknown account action '%(action)s'.")
                % {"row": number, "action": values["account_action"]}
            )
            continue
        if not values["record_id"].isdigit():
            errors.append(_("Row %(row)s: the record number is missing.") % {"row": number})
            continue
        code = values["successor_code"]
        if code.isdigit() and code not in codes and code.zfill(5) in codes:
            values["successor_code"] = code.zfill(5)  # a spreadsheet dropped the leading zeros
        values["record_id"] = int(values["record_id"])
        chunk.append((number, values))
        if len(chunk) >= CHUNK:
            flush()
        if len(errors) >= MAX_ERRORS:
            break
    workbook.close()
    if positions is None:
        raise ValidationError(_("The workbook has no header row of a decisions workbook."))
    if chunk and len(errors) < MAX_ERRORS:
        flush()
    if errors:
        transaction.set_rollback(True)
        raise ValidationError(errors)
    return decided
