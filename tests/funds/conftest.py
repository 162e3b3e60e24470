import datetime

import pytest

from funds import services
from funds.models import Fund, FundModel, LegalForm
from scholarships import services as scholarship_services
from scholarships.models import AwardCategory, RecipientKind

DAY = datetime.date(2017, 3, 15)


@pytest.fixture
def fund_model(db):
    # get_or_create: transactional tests flush the rows the data migration seeded.
    return FundModel.objects.get_or_create(code="hoi-cac-cap", defaults={"name": "Quỹ khuyến học của Hội các cấp"})[0]


@pytest.fixture
def funds(tree, fund_model):
    """One fund per branch of the cast's tree, empty."""
    clan = FundModel.objects.get_or_create(code="dong-ho", defaults={"name": "Quỹ khuyến học dòng họ"})[0]

    def make(branch, name, model=fund_model):
        return Fund.objects.create(branch=branch, name=name, fund_model=model, legal_form=LegalForm.INTERNAL)

    from types import SimpleNamespace

    return SimpleNamespace(
        city=make(tree.city, "Quỹ Khuyến học Hà Nội"),
        ba_dinh=make(tree.ba_dinh, "Quỹ Khuyến học quận Ba Đình"),
        phuc_xa=make(tree.phuc_xa, "Quỹ Khuyến học phường Phúc Xá"),
        phuc_xa_clan=make(tree.phuc_xa, "Quỹ khuyến học dòng họ Nguyễn Phúc Xá", clan),
        truc_bach=make(tree.truc_bach, "Quỹ Khuyến học phường Trúc Bạch"),
        hoan_kiem=make(tree.hoan_kiem, "Quỹ Khuyến học quận Hoàn Kiếm"),
    )


def donate(actor, fund, amount, day=DAY, **extra):
    fields = {"donor_name": "Nguyễn Văn Ấn", "donor_kind": "individual"}
    fields.update(extra)
    return services.donation_record(actor=actor, fund=fund, amount=amount, received_on=day, **fields)


def make_round(actor, branch, fund, **extra):
    fields = {"name": "Học bổng năm học 2016-2017", "school_year": "2016-2017", "awarded_on": DAY}
    fields.update(extra)
    return scholarship_services.round_create(actor=actor, branch=branch, fund=fund, **fields)


def pay(actor, scholarship_round, amount, day=DAY, **extra):
    fields = {
        "recipient_kind": RecipientKind.PUPIL,
        "recipient_name": "Lê Thị Bích",
        "category": AwardCategory.HARDSHIP,
        "date_of_birth": datetime.date(2005, 4, 2),
    }
    fields.update(extra)
    return scholarship_services.award_pay(
        actor=actor, scholarship_round=scholarship_round, amount=amount, paid_on=day, **fields
    )
