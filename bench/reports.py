"""The period reports of the funds and scholarships pages on the full data, against a
hand-written SQL sum over the same rows.

Each report is run for the city (every row of Hanoi) and for one district, with the periods
of the published figures: 2016, the first 8 months of 2017, and the school years
2015–2016 and 2016–2017.

    python -m bench.reports
"""

from __future__ import annotations

import datetime

from bench.common import save, setup_django, timed

DONATIONS_SQL = """
SELECT COALESCE(SUM(d.amount), 0), COUNT(*)
FROM funds_donation d
JOIN funds_fund f ON f.id = d.fund_id
JOIN associations_branch b ON b.id = f.branch_id
WHERE b.path LIKE %(prefix)s AND d.voided_at IS NULL AND d.received_on BETWEEN %(start)s AND %(end)s
"""
AWARDS_SQL = """
SELECT COUNT(*), COUNT(DISTINCT a.recipient_key), COALESCE(SUM(a.amount), 0)
FROM scholarships_award a
JOIN scholarships_scholarshipround r ON r.id = a.round_id
JOIN associations_branch b ON b.id = r.branch_id
WHERE b.path LIKE %(prefix)s AND a.voided_at IS NULL AND a.paid_on BETWEEN %(start)s AND %(end)s
"""


def main() -> None:
    setup_django()
    from django.db import connection

    from associations.models import Branch
    from funds import reports as funds_reports
    from funds.periods import Period
    from scholarships import reports as award_reports

    city = Branch.objects.city_root()
    district = Branch.objects.get(code="001", founded_on__isnull=True)  # Quận Ba Đình
    year_2016 = Period.calendar_year(2016)
    months_2017 = Period.first_months(2017, 8)
    two_years = Period.date_range(datetime.date(2015, 9, 1), datetime.date(2017, 8, 31))

    def sql(statement, branch, period):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(statement, {"prefix": branch.path + "%", "start": period.start, "end": period.end})
                return cursor.fetchone()

        return run

    cases = []
    for branch in (city, district):
        for label, period, report, floor, check in (
            (
                "raised_total 2016",
                year_2016,
                funds_reports.raised_total,
                DONATIONS_SQL,
                lambda r, f: (r["amount"], r["donations"]) == tuple(f),
            ),
            (
                "raised_total 8 months 2017",
                months_2017,
                funds_reports.raised_total,
                DONATIONS_SQL,
                lambda r, f: (r["amount"], r["donations"]) == tuple(f),
            ),
            (
                "raised_by_fund_model 2016",
                year_2016,
                funds_reports.raised_by_fund_model,
                DONATIONS_SQL,
                lambda r, f: sum(row.figures["amount"] for row in r) == f[0],
            ),
            (
                "raised_by_branch 2016",
                year_2016,
                funds_reports.raised_by_branch,
                DONATIONS_SQL,
                lambda r, f: sum(row.figures["amount"] for row in r) == f[0],
            ),
            (
                "awards_total 2015-09..2017-08",
                two_years,
                award_reports.awards_total,
                AWARDS_SQL,
                lambda r, f: (r["turns"], r["recipients"], r["amount"]) == tuple(f),
            ),
            (
                "awards_by_category 2015-09..2017-08",
                two_years,
                award_reports.awards_by_category,
                AWARDS_SQL,
                lambda r, f: sum(row.figures["turns"] for row in r) == f[0],
            ),
            (
                "awards_by_branch 2015-09..2017-08",
                two_years,
                award_reports.awards_by_branch,
                AWARDS_SQL,
                lambda r, f: sum(row.figures["amount"] for row in r) == f[2],
            ),
        ):
            report_seconds, result = timed(lambda report=report, period=period, branch=branch: report(branch, period))
            floor_seconds, floor_result = timed(sql(floor, branch, period))
            assert check(result, floor_result), (label, branch.name, result, floor_result)
            cases.append(
                {
                    "report": label,
                    "branch": branch.name,
                    "report_seconds": report_seconds,
                    "floor_seconds": floor_seconds,
                    "ratio": report_seconds / floor_seconds,
                    "figures": list(floor_result),
                }
            )
            print(f"{label:<38} {branch.name:<18} ×{report_seconds / floor_seconds:.2f}")
    save("reports", {"cases": cases})


if __name__ == "__main__":
    main()
