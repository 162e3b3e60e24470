"""The registry stages of the generator: organisations with their boards and headcounts,
chapters of residential groups and clans, and members."""

from __future__ import annotations

import bisect
import datetime
import itertools
from collections.abc import Iterator

from django.db import connection

from associations.models import Branch, BranchLevel, Member, Organization, OrganizationHeadcount
from demo.generator import names, spec
from demo.generator.base import (
    CATEGORIES,
    PLAN_KINDS,
    _at,
    _date,
    _Org,
    apportion,
)
from khuyenhoc.text import search_key


class RegistryStages:
    def _build_registry(self) -> None:
        rng = self.rng
        factor = self.factor
        self.orgs: list[_Org] = []
        branch_rows: list[tuple] = []
        org_rows: list[tuple] = []
        self.chapters: list[tuple[int, int, int, str, datetime.date]] = []  # (id, district, commune, kind, founded)
        self.boards: list[tuple[int, _Org, datetime.date, str]] = []  # (branch id, org, founded, kind)

        def branch_row(parent: dict, name: str, level: str, organization_id, founded: datetime.date) -> int:
            branch_id = self._take_id(Branch)
            path = self._child_path(parent)
            branch_rows.append(
                (branch_id, path, parent["depth"] + 1, 0, name[:200], level, "", "", organization_id, founded)
            )
            return branch_id

        def founded_between(first_year: int, last_year: int) -> datetime.date:
            start = datetime.date(first_year, 1, 1).toordinal()
            end = datetime.date(last_year, 12, 31).toordinal()
            return _date(rng.randint(start, end))

        def board_founding(share: float) -> datetime.date | None:
            if rng.random() >= share:
                return None
            u = rng.random()
            for year, reached in spec.BOARD_CURVE.items():
                if u <= reached:
                    if year == 2012:
                        return founded_between(2005, 2012)
                    return founded_between(year, year)
            return founded_between(2020, 2020)

        # Organisations, district by district and kind by kind.
        place_counters: dict[tuple, int] = {}
        for kind, full_count in spec.ORGANIZATIONS.items():
            per_district = apportion(spec.scaled(full_count, factor), self.district_weight)
            for d, count in enumerate(per_district):
                district = self.districts[d]
                for n in range(count):
                    # About one agency or public-service unit in ten works at district level.
                    at_district = kind in PLAN_KINDS and n > 0 and rng.random() < 0.1
                    if at_district:
                        parent, commune_index = district, None
                    else:
                        commune_index = self._pick_commune(d, first=(n == 0))
                        parent = self.communes_of[d][commune_index]
                    name = self._org_name(kind, parent, place_counters)
                    org = _Org(
                        id=self._take_id(Organization),
                        kind=kind,
                        branch_id=parent["id"],
                        district=d,
                        commune=commune_index,
                        name=name,
                    )
                    org.home_branch_id = org.branch_id
                    self.orgs.append(org)
                    org_rows.append(
                        (
                            org.id,
                            name,
                            search_key(name),
                            kind,
                            parent["id"],
                            names.address(rng),
                            None,
                            None,
                            _at(datetime.date(2014, 12, 1)),
                        )
                    )
                    # Its board: every school; a share of plan-kind units by district; some enterprises.
                    if kind == "school":
                        founded = founded_between(2005, 2016)
                    elif kind in PLAN_KINDS:
                        founded = board_founding(self.district_board_share[d])
                    elif kind == "enterprise":
                        founded = founded_between(2008, 2019) if rng.random() < spec.ENTERPRISE_BOARD_SHARE else None
                    else:
                        founded = None
                    if founded is not None:
                        board_id = branch_row(parent, f"Ban khuyến học {name}", BranchLevel.BOARD, org.id, founded)
                        org.home_branch_id = board_id
                        self.boards.append((board_id, org, founded, kind))

        # Chapters of residential groups and of clans.
        for kind, full_count, first_year, last_year in (
            ("residential", spec.RESIDENTIAL_CHAPTERS, 2003, 2018),
            ("clan", spec.CLAN_CHAPTERS, 2006, 2020),
        ):
            per_district = apportion(spec.scaled(full_count, factor), self.district_weight)
            for d, count in enumerate(per_district):
                for n in range(count):
                    commune_index = self._pick_commune(d, first=(n == 0))
                    parent = self.communes_of[d][commune_index]
                    number = n + 1
                    if kind == "residential":
                        label = (
                            "Chi hội khuyến học tổ dân phố"
                            if parent["division_type"] == "phuong"
                            else "Chi hội khuyến học thôn"
                        )
                        name = f"{label} số {number}"
                    else:
                        clan = rng.choice(names.CLAN_NAMES)
                        name = f"Ban khuyến học dòng họ {clan} ({names.short_place(parent['name'])}, số {number})"
                    founded = founded_between(first_year, last_year)
                    branch_id = branch_row(parent, name, BranchLevel.CHAPTER, None, founded)
                    self.chapters.append((branch_id, d, commune_index, kind, founded))

        # Headcounts: one report per year, 2015–2020.
        headcount_rows = []
        for org in self.orgs:
            mean, split = spec.HEADCOUNT[org.kind]
            size = max(1, round(mean * rng.lognormvariate(0, 0.45)))
            growth = rng.uniform(-0.01, 0.03)
            for offset, year in enumerate(spec.YEARS):
                total = max(1, round(size * (1 + growth) ** offset))
                columns = apportion(total, list(split))
                org.headcounts.append(columns)
                headcount_rows.append((self._take_id(OrganizationHeadcount), org.id, year, *columns))

        self._write(
            Organization,
            ["id", "name", "name_search", "kind", "branch", "address", "active_from", "active_to", "created_at"],
            org_rows,
        )
        # Boards and chapters in path order, so a parent's children are inserted in step order.
        branch_rows.sort(key=lambda row: row[1])
        self._write(
            Branch,
            [
                "id",
                "path",
                "depth",
                "numchild",
                "name",
                "level",
                "division_type",
                "code",
                "organization",
                "founded_on",
            ],
            branch_rows,
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                f'UPDATE "{Branch._meta.db_table}" SET numchild = numchild + %s WHERE id = %s',  # noqa: S608
                [(count, branch_id) for branch_id, count in sorted(self.new_children.items())],
            )
        self._write(
            OrganizationHeadcount,
            ["id", "organization", "year", "party_members", "cadres", "civil_servants", "public_employees", "workers"],
            headcount_rows,
        )

    def _org_name(self, kind: str, parent: dict, counters: dict) -> str:
        rng = self.rng
        place = names.short_place(parent["name"])
        if kind == "school":
            base = f"{rng.choice(names.SCHOOL_NAMES)} {place}"
        elif kind == "learning_centre":
            base = f"Trung tâm học tập cộng đồng {place}"
        elif kind == "agency":
            base = f"{rng.choice(names.AGENCY_NAMES)} {place}"
        elif kind == "public_service":
            base = f"{rng.choice(names.PUBLIC_SERVICE_NAMES)} {place}"
        elif kind == "armed_forces":
            base = f"{rng.choice(names.ARMED_FORCES_NAMES)} {place}"
        elif kind == "enterprise":
            base = (
                f"{rng.choice(names.ENTERPRISE_FORMS)} {rng.choice(names.ENTERPRISE_TRADES)} "
                f"{rng.choice(names.ENTERPRISE_WORDS)}"
            )
        else:
            base = f"{rng.choice(names.OTHER_NAMES)} {place}"
        # Names are unique within a branch: a second "Trạm Y tế Phúc Xá" becomes "… số 2".
        key = (parent["id"], base)
        counters[key] = counters.get(key, 0) + 1
        return base if counters[key] == 1 else f"{base} số {counters[key]}"

    # --- members ------------------------------------------------------------------------
    def _write_members(self) -> None:
        rng = self.rng
        # People of organisations: the eventual share of each organisation's headcount that
        # joins, reached along MEMBER_CURVE; no one leaves, so active on 31/12/Y = n_Y.
        org_active = dict.fromkeys(range(2014, 2021), 0)
        for org in self.orgs:
            share = min(0.95, self.district_member_share[org.district] * rng.uniform(0.75, 1.25))
            previous = 0
            for year, reached in spec.MEMBER_CURVE.items():
                columns = org.headcounts[max(0, year - 2015)]
                count = max(previous, round(share * reached * sum(columns)))
                org.members_by_year[year] = count
                org_active[year] += count
                previous = count
        # Residents (farmers, retirees, pupils, others): the rest of each year's total.
        resident_active = {}
        previous = 0
        for year in spec.YEARS:
            target = spec.scaled(spec.MEMBERS_ACTIVE[year], self.factor)
            resident_active[year] = max(previous, target - org_active[year])
            previous = resident_active[year]
        resident_active[2014] = round(resident_active[2015] * 0.9)
        self.summary.rows["members active 31/12/2017"] = org_active[2017] + resident_active[2017]
        self.summary.rows["members active 31/12/2020"] = org_active[2020] + resident_active[2020]
        self._resident_active = resident_active
        self._write(
            Member,
            [
                "id",
                "full_name",
                "name_search",
                "name_sort",
                "date_of_birth",
                "gender",
                "citizen_id",
                "phone",
                "address",
                "category",
                "organization",
                "branch",
                "joined_on",
                "left_on",
                "left_reason",
                "created_at",
                "updated_at",
            ],
            self._member_rows(),
        )

    def _member_rows(self) -> Iterator[tuple]:
        cosmetic = self._stream("members")
        people = self.people
        pool_size = len(people)
        serials: dict[str, int] = {}
        year_start = {year: datetime.date(year, 1, 1).toordinal() for year in range(2000, 2022)}
        take_id = self._take_id

        def joined(year: int) -> int:
            return cosmetic.randint(year_start[year], year_start[year + 1] - 1)

        def citizen_id(born: datetime.date, male: bool) -> str | None:
            # A few members carry a citizen ID of valid form (Hanoi's province code, the
            # century/gender digit, the birth year) with a serial counted from zero: never
            # anyone's real number in an obvious way, unique across the data.
            if cosmetic.random() >= 0.03:
                return None
            digit = (0 if born.year < 2000 else 2) + (0 if male else 1)
            prefix = f"001{digit}{born.year % 100:02d}"
            serial = serials.get(prefix, 0)
            serials[prefix] = serial + 1
            return f"{prefix}{serial:06d}"

        def person_row(category, organization_id, branch_id, join_ordinal, born_low, born_high, left=None):
            person = people[cosmetic.randrange(pool_size)]
            born = datetime.date(
                cosmetic.randint(born_low, born_high), cosmetic.randint(1, 12), cosmetic.randint(1, 28)
            )
            join_day = _date(join_ordinal)
            if born > join_day:
                born = join_day.replace(year=join_day.year - 18, day=min(join_day.day, 28))
            stamp = _at(join_day)
            return (
                take_id(Member),
                person.name,
                person.key,
                person.sort,
                born,
                "male" if person.male else "female",
                citizen_id(born, person.male),
                "",
                names.address(cosmetic),
                category,
                organization_id,
                branch_id,
                join_day,
                left[0] if left else None,
                left[1] if left else "",
                stamp,
                stamp,
            )

        for org in self.orgs:
            weights = list(itertools.accumulate(sum(col[i] for col in org.headcounts) for i in range(5)))
            total_weight = weights[-1]
            previous = 0
            for year, count in org.members_by_year.items():
                for _ in range(count - previous):
                    join = joined(cosmetic.randint(2000, 2014)) if year == 2014 else joined(year)
                    if total_weight:
                        pick = cosmetic.random() * total_weight
                        category = CATEGORIES[min(4, bisect.bisect_right(weights, pick))]
                    else:
                        category = "worker"
                    yield person_row(category, org.id, org.home_branch_id, join, 1958, 1996)
                previous = count

        # Residents: registered in a chapter of their commune, or at the commune itself.
        chapters_of: dict[tuple[int, int], list[int]] = {}
        for branch_id, d, c, _kind, _founded in self.chapters:
            chapters_of.setdefault((d, c), []).append(branch_id)
        communes = [(d, c) for d in range(len(self.districts)) for c in range(len(self.communes_of[d]))]
        commune_weights = list(
            itertools.accumulate(
                self.district_weight[d] / len(self.communes_of[d]) * self.commune_weight[d][c] for d, c in communes
            )
        )

        def resident_branch() -> int:
            d, c = communes[bisect.bisect_right(commune_weights, cosmetic.random() * commune_weights[-1])]
            options = chapters_of.get((d, c))
            if options and cosmetic.random() < 0.8:
                return options[cosmetic.randrange(len(options))]
            return self.communes_of[d][c]["id"]

        resident_kinds = (("farmer", 1950, 1990), ("retiree", 1940, 1960), ("other", 1960, 1995))
        previous = 0
        for year in range(2014, 2021):
            for _ in range(self._resident_active[year] - previous):
                if year >= 2015 and cosmetic.random() < 0.15:
                    yield person_row("student", None, resident_branch(), joined(year), year - 20, year - 16)
                else:
                    category, low, high = resident_kinds[cosmetic.randrange(3)]
                    join = joined(cosmetic.randint(2000, 2014)) if year == 2014 else joined(year)
                    yield person_row(category, None, resident_branch(), join, low, high)
            previous = self._resident_active[year]
        # Some who left before 2017 (moved away): they count in no year from 2017 on.
        for _ in range(round(self._resident_active[2014] * 0.03)):
            join = joined(cosmetic.randint(2003, 2012))
            left = _date(cosmetic.randint(max(join + 365, year_start[2013]), year_start[2016] + 364))
            yield person_row("other", None, resident_branch(), join, 1945, 1985, left=(left, "Chuyển nơi cư trú"))
