"""Every foreign key to associations.Branch, classified once: MOVED by a reorganisation (the
record follows its branch's successor) or KEPT as history (with the reason).

tests/reorganisation/test_classification.py walks every installed model and fails for a
foreign key to Branch that is not classified here, so a new app cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import models

MOVED = "moved"
KEPT = "kept"


@dataclass(frozen=True)
class Handling:
    how: str  # MOVED or KEPT
    reason: str


# "app_label.model.field" → how a reorganisation treats it.
BRANCH_FOREIGN_KEYS: dict[str, Handling] = {
    # associations
    "associations.organization.branch": Handling(MOVED, "An organisation in activity moves to its unit's successor."),
    "associations.member.branch": Handling(MOVED, "A member who has not left moves with the unit (or organisation)."),
    "associations.staffprofile.branch": Handling(
        MOVED, "An account moves to the successor, or as decided: a read-only city account or deactivated."
    ),
    "associations.auditentry.branch": Handling(KEPT, "The audit trail says where a change was made, then."),
    "associations.personaldataexport.branch": Handling(KEPT, "A record of who exported what, then."),
    "associations.exportjob.branch": Handling(KEPT, "A list export asked for then; kept a few days."),
    "associations.lineageedge.predecessor": Handling(KEPT, "Lineage itself."),
    "associations.lineageedge.successor": Handling(KEPT, "Lineage itself."),
    "associations.recordmove.from_branch": Handling(KEPT, "The record of a move."),
    "associations.recordmove.to_branch": Handling(KEPT, "The record of a move."),
    # funds: the fund stays with its dissolved branch; its balance moves as a ledger transfer
    "funds.fund.branch": Handling(
        KEPT, "A fund's ledger is the old branch's history: its balance moves by a transfer dated the effective day."
    ),
    "funds.donationmonthtotal.branch": Handling(
        KEPT, "Stored sums of a subtree's donations, recomputed by the apply (funds.totals) in its transaction."
    ),
    # scholarships
    "scholarships.awardmonthtotal.branch": Handling(
        KEPT, "Stored sums of a subtree's award turns, recomputed by the apply (funds.totals) in its transaction."
    ),
    "scholarships.scholarshipround.branch": Handling(
        MOVED, "A round awarded on or after the effective day moves with its fund; earlier rounds are history."
    ),
    # learning: the registries of subjects move; the yearly cycle's records are history
    "learning.household.branch": Handling(MOVED, "A household lives in the successor unit."),
    "learning.clan.branch": Handling(MOVED, "A clan lives in the successor unit."),
    "learning.community.branch": Handling(MOVED, "A village or residential group lies in the successor unit."),
    "learning.citizen.branch": Handling(MOVED, "A registered citizen lives in the successor unit."),
    "learning.registration.branch": Handling(KEPT, "A registration counts where it was made, for its year."),
    "learning.decision.branch": Handling(KEPT, "A recognition decision was issued by the old branch."),
    "learning.deadline.branch": Handling(KEPT, "The old branch's own deadlines; successors set theirs."),
    "learning.eligiblecount.branch": Handling(KEPT, "A yearly figure of the old branch."),
    "learning.titlefigure.branch": Handling(KEPT, "Computed figures, recomputed after the change."),
    # plans: issued documents and computed values
    "plans.plan.issuing_branch": Handling(KEPT, "A plan was issued by the old branch."),
    "plans.target.root_branch": Handling(KEPT, "A target's scope as issued."),
    "plans.indicatorvalue.branch": Handling(KEPT, "Computed values, recomputed after the change."),
    "plans.moneyyeartotal.branch": Handling(KEPT, "Computed totals, recomputed after the change."),
    "plans.scholarshipyeartotal.branch": Handling(KEPT, "Computed totals, recomputed after the change."),
    "plans.recomputerun.branch": Handling(
        KEPT, "The scope of a recompute as it was asked for; a reorganisation asks for a city-wide run."
    ),
    "plans.reportexport.branch": Handling(KEPT, "A report exported then."),
    # imports
    "imports.importjob.branch": Handling(KEPT, "An import run then, under the branch it ran for."),
    # reorganisation's own tables
    "reorganisation.reorganisationdecision.from_branch": Handling(KEPT, "The decision's own record."),
    "reorganisation.reorganisationdecision.successor": Handling(KEPT, "The decision's own record."),
    "reorganisation.unitmapping.predecessor": Handling(KEPT, "The apply's own record."),
    "reorganisation.unitmapping.successor": Handling(KEPT, "The apply's own record."),
    "reorganisation.pathrewrite.branch": Handling(KEPT, "The apply's own record."),
}

# Whole apps whose rows are history of the branch they were made under.
BRANCH_APPS: dict[str, Handling] = {
    "centres": Handling(
        KEPT, "A community learning centre belongs to its commune, dissolved with it (one per commune)."
    ),
    "reporting": Handling(KEPT, "Reports were made for the branch as it was."),
}


def branch_foreign_keys() -> Iterator[tuple[type[models.Model], models.Field]]:
    """Every concrete foreign key (or one-to-one) to associations.Branch in the project."""
    branch = apps.get_model("associations", "Branch")
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is branch:
                yield model, field


def handling_of(model: type[models.Model], field: models.Field) -> Handling | None:
    key = f"{model._meta.label_lower}.{field.name}"
    return BRANCH_FOREIGN_KEYS.get(key) or BRANCH_APPS.get(model._meta.app_label)


def unclassified() -> list[str]:
    return [
        f"{model._meta.label_lower}.{field.name}"
        for model, field in branch_foreign_keys()
        if handling_of(model, field) is None
    ]
