"""The adapter interface each register implements, and the registry of adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import import_string

from khuyenhoc.imports.reader import Column, ErrorLog, ParsedRow

# ImportJob kind → adapter class. Apps that add a register add a line here.
ADAPTERS = {
    "members": "associations.imports.MemberImport",
    "organizations": "associations.imports.OrganizationImport",
    "donations": "funds.imports.DonationImport",
    "awards": "scholarships.imports.AwardImport",
}


def adapter_class(kind: str) -> type[ImportAdapter]:
    return import_string(ADAPTERS[kind])


@dataclass
class ChunkPlan:
    """What an adapter decided for one chunk; `create`/`update` hold adapter-specific items."""

    create: list = field(default_factory=list)
    update: list = field(default_factory=list)
    unchanged: int = 0
    preview: list[dict] = field(default_factory=list)  # {"row", "action", "summary"}


class ImportAdapter:
    """One register's rules. Subclasses set the class attributes and implement plan/write."""

    kind: str = ""
    title: Any = ""  # translatable name of the register, for pages
    sheet_title: str = "Dữ liệu"
    columns: tuple[Column, ...] = ()
    notes: tuple = ()  # translatable lines for the instructions sheet

    def __init__(self, job):
        self.job = job
        self.root = job.branch
        self.actor = job.created_by

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)

    def plan(self, rows: list[ParsedRow], errors: ErrorLog) -> ChunkPlan:
        raise NotImplementedError

    def write(self, plan: ChunkPlan) -> None:
        """Write one chunk's plan. A ValidationError (e.g. a fund's balance would go below zero
        under its lock) stops the apply and rolls the whole file back with that message."""
        raise NotImplementedError

    def check_file(self, errors: ErrorLog) -> None:
        """After the last chunk, rules about the file as a whole (e.g. totals per fund).

        Runs in both passes; errors added here refuse the whole file. Called before any write
        of the check pass, but after the writes of the apply pass: use what was known before.
        """

    def finish(self, *, created: int, updated: int) -> None:
        """After a successful apply, inside its transaction (e.g. send a signal once)."""
