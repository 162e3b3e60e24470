"""Importing 100 000-row workbooks (members, donations, scholarship awards) through the
portal's import engine, against the floor of a bulk insert (Django `bulk_create`, batches of
1 000) of the same rows already parsed: the members; the donations and their ledger rows; the
awards, their payments and ledger rows.

Three steps per register, each in its own process so the peak memory of one says nothing of
the others:

    python -m bench.imports workbook   # writes the .xlsx (not timed)
    python -m bench.imports floor      # parse outside the clock, time bulk_create, roll back
    python -m bench.imports engine     # check (dry run) + apply, timed; peak memory
                                       # (BENCH_PROFILE=1: a cProfile of the apply, printed)

and the same with `donations-workbook`, `donations-floor`, `donations-engine`, `awards-…`. The
award workbook step also tops up the paying funds (a donation each, not timed) so that the
file's awards fit their balances.

Peak memory is the process's maximum resident set size from `resource.getrusage`
(ru_maxrss), reported beside the same figure taken just before the import starts.
"""

from __future__ import annotations

import datetime
import os
import random
import resource
import sys
import time

from bench.common import load, out_dir, save, setup_django

ROWS = 100_000
HEADERS = ["Họ và tên", "Ngày sinh", "Giới tính", "Địa chỉ", "Đối tượng", "Đơn vị hội (mã hoặc tên)", "Ngày vào hội"]
AWARD_HEADERS = [
    "Đợt học bổng",
    "Họ và tên người nhận",
    "Ngày sinh",
    "Số CCCD/mã học sinh",
    "Đối tượng nhận",
    "Loại học bổng",
    "Số tiền (đồng)",
]
DISTRICT_CODE = "001"  # Quận Ba Đình: the uploader's branch while it exists (see _uploader)


def _uploader():
    """Quận Ba Đình, or the city once the districts are dissolved (01/07/2025: the third round
    of the reorganisation leaves the city above its communes): a dissolved branch takes no writes."""
    from associations.models import Branch

    district = Branch.objects.get(code=DISTRICT_CODE, founded_on__isnull=True)
    if district.dissolved_on is None:
        return district
    return Branch.objects.get(depth=1)


def _communes(uploader) -> list[str]:
    """The codes of the open communes under the uploader that name one branch of its subtree."""
    from django.db.models import Count

    from associations.models import Branch

    subtree = Branch.objects.in_subtree(uploader)
    unique = set(
        subtree.exclude(code="").values("code").annotate(n=Count("pk")).filter(n=1).values_list("code", flat=True)
    )
    codes = subtree.filter(level="commune", dissolved_on__isnull=True).values_list("code", flat=True)
    return sorted(code for code in codes if code in unique)


def _workbook_path(kind: str = "members"):
    return out_dir() / f"{kind}-100000.xlsx"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def workbook() -> None:
    setup_django()
    from openpyxl import Workbook

    from associations.imports import MEMBER_CATEGORY_LABELS
    from demo.generator.names import person_pool

    communes = _communes(_uploader())
    rng = random.Random(100_000)  # noqa: S311 — reproducible synthetic rows
    people = person_pool(rng, size=6000)
    labels = list(MEMBER_CATEGORY_LABELS)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Hội viên")
    sheet.append(HEADERS)
    seen = set()
    while len(seen) < ROWS:
        person = people[rng.randrange(len(people))]
        born = datetime.date(rng.randint(1950, 1999), rng.randint(1, 12), rng.randint(1, 28))
        commune = communes[rng.randrange(len(communes))]
        key = (person.key, born, commune)
        if key in seen:
            continue
        seen.add(key)
        joined = datetime.date(rng.randint(2018, 2020), rng.randint(1, 12), rng.randint(1, 28))
        sheet.append(
            [
                person.name,
                born.strftime("%d/%m/%Y"),
                "Nam" if person.male else "Nữ",
                f"Số {rng.randint(1, 199)}, tổ dân phố {rng.randint(1, 30)}",
                labels[rng.randrange(len(labels))],
                commune,
                joined.strftime("%d/%m/%Y"),
            ]
        )
    book.save(_workbook_path())
    print(f"workbook: {ROWS} rows, {_workbook_path().stat().st_size / 1e6:.1f} MB")


def floor() -> None:
    setup_django()
    from django.db import transaction
    from openpyxl import load_workbook

    from associations.imports import GENDER_LABELS, MEMBER_CATEGORY_LABELS
    from associations.models import Branch, Member
    from khuyenhoc.imports import parse_date
    from khuyenhoc.text import search_key, vietnamese_sort_string

    codes = dict(Branch.objects.in_subtree(_uploader()).exclude(code="").values_list("code", "id"))
    book = load_workbook(_workbook_path(), read_only=True)
    members = []
    for row in book.worksheets[0].iter_rows(min_row=2, values_only=True):
        name, born, gender, address, category, commune, joined = row
        members.append(
            Member(
                full_name=name,
                name_search=search_key(name),
                name_sort=vietnamese_sort_string(name),
                date_of_birth=parse_date(born),
                gender=GENDER_LABELS[gender],
                address=address,
                category=MEMBER_CATEGORY_LABELS[category],
                branch_id=codes[commune],
                joined_on=parse_date(joined),
            )
        )
    book.close()
    seconds = 0.0

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            started = time.perf_counter()
            Member.objects.bulk_create(members, batch_size=1000)
            seconds = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    save("imports_floor", {"rows": len(members), "seconds": seconds, "rows_per_second": len(members) / seconds})
    print(f"floor: bulk_create {len(members)} rows in {seconds:.1f} s ({len(members) / seconds:,.0f} rows/s)")


def engine(kind: str = "members") -> None:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.files import File

    from imports.models import ImportJob, ImportStatus
    from imports.services import job_apply, job_check, job_create, job_start_apply

    admin = get_user_model().objects.filter(is_superuser=True).first()
    district = _uploader()
    path = _workbook_path(kind)
    with open(path, "rb") as handle:
        job = job_create(actor=admin, kind=kind, branch=district, upload=File(handle, name=path.name))
    baseline = _rss_mb()
    started = time.perf_counter()
    job_check(job.pk)
    checked = time.perf_counter()
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED, (job.status, job.message, job.errors[:5])
    assert job_start_apply(job)
    if os.environ.get("BENCH_PROFILE"):  # a cProfile of the apply (slower: not a figure for the goal)
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(job_apply, job.pk)
        applied = time.perf_counter()
        profile.dump_stats(out_dir() / f"{_result_name(kind, 'apply')}.prof")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    else:
        job_apply(job.pk)
        applied = time.perf_counter()
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == ImportStatus.APPLIED, (job.status, job.message)
    data = {
        "rows": job.total_rows,
        "created": job.to_create,
        "updated": job.to_update,
        "check_seconds": checked - started,
        "apply_seconds": applied - checked,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": _rss_mb(),
        "plan_kept": bool(getattr(job, "plan", None)),
    }
    if kind != "members":
        data.update(_money_checks(kind, job))
    save(_result_name(kind, "engine_profiled" if os.environ.get("BENCH_PROFILE") else "engine"), data)
    print(
        f"{kind} engine: check {data['check_seconds']:.1f} s, apply {data['apply_seconds']:.1f} s, "
        f"peak RSS {data['peak_rss_mb']:.0f} MB (baseline {baseline:.0f} MB)"
    )


def _result_name(kind: str, step: str) -> str:
    return f"imports_{step}" if kind == "members" else f"imports_{kind}_{step}"


def _money_checks(kind: str, job) -> dict:
    """After the apply: each fund's balance equals its ledger's sum, and the receipt numbers
    of each fund and year run 1..n without a gap (asserted; the counts are reported)."""
    from django.db.models import Count, Max, Sum

    from funds.models import Donation, Fund, LedgerEntry

    funds = Fund.objects.filter(branch__path__startswith=job.branch.path)
    sums = dict(
        LedgerEntry.objects.filter(fund__in=funds)
        .values("fund")
        .annotate(total=Sum("amount"))
        .values_list("fund", "total")
    )
    for fund_id, balance in funds.values_list("pk", "balance"):
        assert balance == sums.get(fund_id, 0), (fund_id, balance, sums.get(fund_id))
    gaps = 0
    if kind == "donations":
        for row in (
            Donation.objects.filter(fund__in=funds)
            .values("fund", "receipt_year")
            .annotate(count=Count("pk"), last=Max("receipt_number"))
        ):
            gaps += row["last"] != row["count"]
        assert gaps == 0
    return {"funds_checked": funds.count(), "receipt_gaps": gaps}


def _district_funds():
    """The open funds of the uploader's district that may receive money today."""
    import datetime as dt

    from funds.models import Fund

    today = dt.date.today()
    return list(
        Fund.objects.in_subtree(_uploader()).filter(
            closed_on__isnull=True, opened_on__lte=today - dt.timedelta(days=400), branch__dissolved_on__isnull=True
        )
    )


def donations_workbook() -> None:
    setup_django()
    from openpyxl import Workbook

    from demo.generator.names import person_pool
    from funds.imports import DONOR_KIND_LABELS

    funds = _district_funds()
    assert funds, "no open fund in the district"
    rng = random.Random(100_001)  # noqa: S311 — reproducible synthetic rows
    people = person_pool(rng, size=6000)
    kinds = list(DONOR_KIND_LABELS)
    today = datetime.date.today()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Ủng hộ")
    sheet.append(["Quỹ", "Ngày nhận", "Người ủng hộ", "Loại người ủng hộ", "Số tiền (đồng)", "Hình thức"])
    seen = set()
    while len(seen) < ROWS:
        fund = funds[rng.randrange(len(funds))]
        day = today - datetime.timedelta(days=rng.randint(1, 365))
        person = people[rng.randrange(len(people))]
        amount = rng.randint(1, 200) * 10_000
        key = (fund.pk, day, person.key, amount)
        if key in seen:
            continue
        seen.add(key)
        sheet.append(
            [str(fund.pk), day.strftime("%d/%m/%Y"), person.name, kinds[rng.randrange(len(kinds))], amount, "Tiền mặt"]
        )
    book.save(_workbook_path("donations"))
    print(f"donations workbook: {ROWS} rows over {len(funds)} funds")


def _read_rows(kind: str):
    from openpyxl import load_workbook

    book = load_workbook(_workbook_path(kind), read_only=True)
    rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    book.close()
    return rows


def _timed_rollback(write) -> float:
    from django.db import transaction

    class Rollback(Exception):
        pass

    seconds = 0.0
    try:
        with transaction.atomic():
            started = time.perf_counter()
            write()
            seconds = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return seconds


def donations_floor() -> None:
    setup_django()
    from django.contrib.auth import get_user_model

    from funds.imports import DONOR_KIND_LABELS
    from funds.models import Donation, DonationMethod, LedgerEntry, LedgerKind
    from khuyenhoc.imports import parse_date

    admin = get_user_model().objects.filter(is_superuser=True).first()
    numbers: dict[tuple, int] = {}
    donations = []
    for fund, day, donor, kind, amount, _method in _read_rows("donations"):
        received_on = parse_date(day)
        key = (int(fund), received_on.year)
        numbers[key] = numbers.get(key, 1_000_000) + 1  # above any number issued: rolled back anyway
        donations.append(
            Donation(
                fund_id=int(fund),
                donor_name=donor,
                donor_kind=DONOR_KIND_LABELS[kind],
                amount=amount,
                received_on=received_on,
                method=DonationMethod.CASH,
                receipt_year=received_on.year,
                receipt_number=numbers[key],
                created_by=admin,
            )
        )

    def write():
        Donation.objects.bulk_create(donations, batch_size=1000)
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    fund_id=donation.fund_id,
                    amount=donation.amount,
                    kind=LedgerKind.DONATION,
                    occurred_on=donation.received_on,
                    memo=donation.donor_name,
                    created_by=admin,
                    donation=donation,
                )
                for donation in donations
            ],
            batch_size=1000,
        )

    seconds = _timed_rollback(write)
    rows = len(donations)
    save("imports_donations_floor", {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds})
    print(f"donations floor: {rows} donations + ledger rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")


def _award_rounds():
    """The district's rounds whose paying fund lies in the district and was open on the round's day."""
    from scholarships.models import ScholarshipRound

    district = _uploader()
    rounds = (
        ScholarshipRound.objects.in_subtree(district)
        .filter(
            fund__branch__path__startswith=district.path,
            fund__branch__dissolved_on__isnull=True,
            branch__dissolved_on__isnull=True,
            awarded_on__lte=datetime.date.today(),
        )
        .select_related("fund")
    )
    return [r for r in rounds if r.fund.is_open_on(r.awarded_on)]


def awards_workbook() -> None:
    setup_django()
    from django.contrib.auth import get_user_model
    from openpyxl import Workbook

    from demo.generator.names import person_pool
    from funds.models import Donation, DonorKind, Fund
    from funds.services import donations_record
    from scholarships.imports import CATEGORY_LABELS

    rounds = _award_rounds()
    assert rounds, "no scholarship round in the district"
    rng = random.Random(100_002)  # noqa: S311 — reproducible synthetic rows
    people = person_pool(rng, size=6000)
    categories = [label for label in CATEGORY_LABELS if label != "Khác"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Học bổng")
    sheet.append(
        [
            "Đợt học bổng",
            "Họ và tên người nhận",
            "Ngày sinh",
            "Số CCCD/mã học sinh",
            "Đối tượng nhận",
            "Loại học bổng",
            "Số tiền (đồng)",
        ]
    )
    needed: dict[int, int] = {}
    for number in range(ROWS):
        scholarship_round = rounds[rng.randrange(len(rounds))]
        person = people[rng.randrange(len(people))]
        born = datetime.date(
            scholarship_round.awarded_on.year - rng.randint(7, 18), rng.randint(1, 12), rng.randint(1, 28)
        )
        amount = rng.randint(2, 20) * 50_000
        needed[scholarship_round.fund_id] = needed.get(scholarship_round.fund_id, 0) + amount
        sheet.append(
            [
                str(scholarship_round.pk),
                person.name,
                born.strftime("%d/%m/%Y"),
                f"HS{number:08d}",
                "Học sinh/sinh viên",
                categories[rng.randrange(len(categories))],
                amount,
            ]
        )
    book.save(_workbook_path("awards"))
    # Top up the paying funds so that the file's awards fit (not timed; a donation each).
    admin = get_user_model().objects.filter(is_superuser=True).first()
    today = datetime.date.today()
    top_ups = []
    for fund in Fund.objects.filter(pk__in=needed):
        if fund.balance < needed[fund.pk]:
            day = min(today, fund.closed_on) if fund.closed_on else today
            top_ups.append(
                Donation(
                    fund_id=fund.pk,
                    donor_name="Nhà hảo tâm (bench)",
                    donor_kind=DonorKind.ENTERPRISE,
                    amount=needed[fund.pk] - fund.balance,
                    received_on=day,
                )
            )
    donations_record(actor=admin, donations=top_ups)
    print(f"awards workbook: {ROWS} rows over {len(rounds)} rounds; {len(top_ups)} funds topped up")


def awards_floor() -> None:
    setup_django()
    from django.contrib.auth import get_user_model

    from funds.models import LedgerEntry, LedgerKind, Payment
    from khuyenhoc.imports import parse_date
    from khuyenhoc.text import search_key
    from scholarships.imports import CATEGORY_LABELS, RECIPIENT_KIND_LABELS
    from scholarships.models import Award, ScholarshipRound

    admin = get_user_model().objects.filter(is_superuser=True).first()
    rounds = {r.pk: r for r in ScholarshipRound.objects.all()}
    awards = []
    for round_id, name, born, recipient_id, kind, category, amount in _read_rows("awards"):
        scholarship_round = rounds[int(round_id)]
        date_of_birth = parse_date(born)
        awards.append(
            Award(
                round=scholarship_round,
                recipient_kind=RECIPIENT_KIND_LABELS[kind],
                recipient_name=name,
                recipient_name_search=search_key(name),
                recipient_key=Award.recipient_key_for(
                    recipient_id=recipient_id, recipient_name=name, date_of_birth=date_of_birth
                ),
                date_of_birth=date_of_birth,
                recipient_id=recipient_id,
                category=CATEGORY_LABELS[category],
                amount=amount,
                paid_on=scholarship_round.awarded_on,
                created_by=admin,
            )
        )

    def write():
        payments = Payment.objects.bulk_create(
            [
                Payment(
                    fund_id=award.round.fund_id,
                    amount=award.amount,
                    paid_on=award.paid_on,
                    description=award.recipient_name,
                    created_by=admin,
                )
                for award in awards
            ],
            batch_size=1000,
        )
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    fund_id=payment.fund_id,
                    amount=-payment.amount,
                    kind=LedgerKind.PAYMENT,
                    occurred_on=payment.paid_on,
                    memo=payment.description,
                    created_by=admin,
                    payment=payment,
                )
                for payment in payments
            ],
            batch_size=1000,
        )
        for award, payment in zip(awards, payments, strict=True):
            award.payment = payment
        Award.objects.bulk_create(awards, batch_size=1000)

    seconds = _timed_rollback(write)
    rows = len(awards)
    save("imports_awards_floor", {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds})
    print(f"awards floor: {rows} awards + payments + ledger rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")


def summary() -> None:
    floor_data, engine_data = load("imports_floor"), load("imports_engine")
    rows = engine_data["rows"]
    rate = rows / engine_data["apply_seconds"]
    print(f"import: apply {rate:,.0f} rows/s, floor {floor_data['rows_per_second']:,.0f} rows/s")


STEPS = {
    "workbook": workbook,
    "floor": floor,
    "engine": engine,
    "summary": summary,
    "donations-workbook": lambda: donations_workbook(),
    "donations-floor": lambda: donations_floor(),
    "donations-engine": lambda: engine("donations"),
    "awards-workbook": lambda: awards_workbook(),
    "awards-floor": lambda: awards_floor(),
    "awards-engine": lambda: engine("awards"),
}

if __name__ == "__main__":
    STEPS[sys.argv[1]]()
