"""The adapter interface each register implements, and the registry of adapters.

Each app registers its adapters from its AppConfig.ready() with `register`; the import-job
app finds them by kind with `adapter_class` and lists them with `registered`. Nothing here
names an app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from khuyenhoc.imports.reader import Column, ErrorLog, ParsedRow


@dataclass
class ChunkPlan:
    """What an adapter decided for one chunk; `create`/`update` hold adapter-specific items."""

    create: list = field(default_factory=list)
    update: list = field(default_factory=list)
    unchanged: int = 0
    preview: list[dict] = field(default_factory=list)  # {"row", "action", "summary"}


class ImportAdapter:
    """One register's rules. Subclasses set the class attributes and implement plan/write."""

    kind: str = ""  # the import job's kind
    title: Any = ""  # translatable name of the register, for pages
    template_filename: str = ""  # name of the downloaded blank template, e.g. "mau-nhap-hoi-vien.xlsx"
    list_url: str = ""  # URL name of the register's list, for the link back from the import pages
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

    def check_rejected(self, rows: list[ParsedRow], errors: ErrorLog) -> None:
        """Name the other errors of rows that have unreadable cells (`row.failed`; their
        values hold the cells that were read), so that one upload names every error of a
        row: an unknown branch or fund, a rule between two columns. Nothing of these rows
        is planned. Runs once per chunk, after `plan`; a constant number of queries."""

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

    # Reusing the check's plan at apply (see imports.services): an adapter that sets
    # `reuses_plan` turns each chunk's plan into JSON at the check (`freeze`) and back at the
    # apply (`thaw`), so that the apply reads neither the workbook nor the cells again.
    reuses_plan: bool = False

    def freeze(self, plan: ChunkPlan) -> Any:
        """A checked chunk's plan as JSON-friendly data: what to write, and what the check
        relied on in the database (e.g. the version of each record it matched)."""
        raise NotImplementedError

    def thaw(self, frozen: Any) -> ChunkPlan:
        """The chunk's plan again, ready for `write`, after verifying in a constant number
        of queries that the database rows the check relied on are unchanged and that nothing
        new collides. Raises PlanMoved (nothing of this chunk written) when they moved."""
        raise NotImplementedError


class PlanMoved(Exception):
    """The database changed between the check and the apply in a way the check's plan
    depends on: the file must be checked again."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Import job kind → adapter class, filled by the apps' AppConfig.ready().
_REGISTRY: dict[str, type[ImportAdapter]] = {}


def register(adapter: type[ImportAdapter]) -> type[ImportAdapter]:
    """Make an adapter available under its `kind` (usable as a class decorator)."""
    if not adapter.kind:
        raise ValueError(f"{adapter.__name__} has no kind")
    known = _REGISTRY.get(adapter.kind)
    if known is not None and known is not adapter:
        raise ValueError(f"Two import adapters for the kind {adapter.kind!r}: {known.__name__}, {adapter.__name__}")
    _REGISTRY[adapter.kind] = adapter
    return adapter


def adapter_class(kind: str) -> type[ImportAdapter]:
    """The adapter registered for a kind; KeyError when none is."""
    return _REGISTRY[kind]


def registered() -> dict[str, type[ImportAdapter]]:
    """Every registered adapter by kind, in the order they were registered."""
    return dict(_REGISTRY)
