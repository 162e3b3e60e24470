"""Recognised registrations built directly with the ORM, for the documents' tests: a title,
a decision, subjects, and registrations at the stage "recognised" with their evaluation."""

from __future__ import annotations

import datetime

from associations.models import Branch
from learning.models import (
    Citizen,
    Clan,
    Community,
    CriteriaSet,
    Decision,
    Evaluation,
    Household,
    Registration,
    Stage,
    SubjectType,
    TitleKind,
)

TITLES = {
    SubjectType.HOUSEHOLD: ("gia-dinh-hoc-tap", "Gia đình học tập", "GĐHT"),
    SubjectType.CLAN: ("dong-ho-hoc-tap", "Dòng họ học tập", "DHHT"),
    SubjectType.COMMUNITY: ("cong-dong-hoc-tap", "Cộng đồng học tập", "CĐHT"),
    SubjectType.UNIT: ("don-vi-hoc-tap", "Đơn vị học tập", "ĐVHT"),
    SubjectType.CITIZEN: ("cong-dan-hoc-tap", "Công dân học tập", "CDHT"),
}
DECIDED_ON = datetime.date(2025, 11, 15)


def title_kind(subject_type: str = SubjectType.HOUSEHOLD) -> TitleKind:
    # By name: a data migration may already have seeded the five national titles.
    code, name, abbreviation = TITLES[subject_type]
    return TitleKind.objects.get_or_create(
        name=name, defaults={"code": code, "abbreviation": abbreviation, "subject_type": subject_type}
    )[0]


def criteria_set(kind: TitleKind) -> CriteriaSet:
    return CriteriaSet.objects.get_or_create(
        kind=kind, version=99, defaults={"name": f"Tiêu chí {kind.name} (thử)", "valid_from": 2021, "pass_points": 50}
    )[0]


def decision(branch: Branch, kind: TitleKind, **fields) -> Decision:
    values = {
        "year": 2025,
        "number": "123/QĐ-UBND",
        "decided_on": DECIDED_ON,
        "body": "Ủy ban nhân dân phường Phúc Xá",
        "signer": "Nguyễn Văn Bình",
        "signer_title": "Chủ tịch",
    }
    values.update(fields)
    return Decision.objects.create(branch=branch, kind=kind, **values)


def household(branch: Branch, head_name: str = "Nguyễn Thị Hương", **fields) -> Household:
    values = {"address": "Số 12 ngõ 5 phố Phúc Xá", "people": 4, "working_people": 2}
    values.update(fields)
    return Household.objects.create(branch=branch, head_name=head_name, **values)


def clan(branch: Branch, name: str = "Nguyễn Đình", **fields) -> Clan:
    values = {"representative": "Nguyễn Đình Khoa", "residence": "Phường Phúc Xá, quận Ba Đình"}
    values.update(fields)
    return Clan.objects.create(branch=branch, name=name, **values)


def community(branch: Branch, name: str = "Tổ dân phố số 5", **fields) -> Community:
    return Community.objects.create(branch=branch, name=name, **{"households": 120, **fields})


def citizen(branch: Branch, full_name: str = "Trần Văn Đức", **fields) -> Citizen:
    return Citizen.objects.create(branch=branch, full_name=full_name, **fields)


def recognised(
    the_decision: Decision, subject, *, points: int = 92, level: str = "Tốt", branch: Branch | None = None
) -> Registration:
    """A registration of `subject` that `the_decision` recognises, with its evaluation."""
    kind = the_decision.kind
    field = {
        SubjectType.HOUSEHOLD: "household",
        SubjectType.CLAN: "clan",
        SubjectType.COMMUNITY: "community",
        SubjectType.UNIT: "organization",
        SubjectType.CITIZEN: "citizen",
    }[kind.subject_type]
    registration = Registration.objects.create(
        kind=kind,
        year=the_decision.year,
        branch=branch or subject.branch,
        stage=Stage.RECOGNISED,
        decision=the_decision,
        registered_on=datetime.date(the_decision.year, 3, 1),
        **{field: subject},
    )
    Evaluation.objects.create(
        registration=registration,
        criteria_set=criteria_set(kind),
        total_points=points,
        level=level,
        passed=True,
        evaluated_on=datetime.date(the_decision.year, 9, 1),
        evaluator="Ban chủ nhiệm chi hội",
    )
    return registration
