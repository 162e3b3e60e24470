"""The writes of the reports app: workflow (values and transitions), setup (forms, periods,
deadlines) and reminders."""

from reporting.services.reminders import reminders_send
from reporting.services.setup import (
    deadlines_save,
    field_delete,
    field_save,
    form_new_version,
    period_create,
    section_save,
)
from reporting.services.workflow import (
    clean_value,
    report_accept,
    report_approve,
    report_return,
    report_submit,
    report_values_save,
)

__all__ = [
    "clean_value",
    "deadlines_save",
    "field_delete",
    "field_save",
    "form_new_version",
    "period_create",
    "reminders_send",
    "report_accept",
    "report_approve",
    "report_return",
    "report_submit",
    "report_values_save",
    "section_save",
]
