"""Hanoi's real maps in the one dated tree: the 2017 one Plan 99/KH-KHHN was written for, and the one
in force since 01/07/2025, both under the same city root."""

import datetime
import unicodedata
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from associations.maps import HANOI_MAPS, MapLoadResult, hanoi_map_load
from associations.models import Branch, BranchLevel, DivisionType

pytestmark = pytest.mark.slow  # one of the slowest files: `make test-fast` leaves it out


def _add(parent, name, level, **fields):
    fields.update(name=name, level=level)
    if parent is None:
        return Branch.objects.add_root(create_kwargs=fields)
    return Branch.objects.add_child(parent, create_kwargs=fields)


JULY_2025 = datetime.date(2025, 7, 1)
FOUNDED = {"2017": None, "2025": JULY_2025}


def _kinds(vintage, level):
    nodes = Branch.objects.filter(level=level)
    if level != BranchLevel.CITY:
        nodes = nodes.filter(founded_on=FOUNDED[vintage])
    return Counter(nodes.values_list("division_type", flat=True))


def _named(vintage, code):
    return Branch.objects.get(code=code, founded_on=FOUNDED[vintage]).name


def test_the_2017_map_has_30_districts_and_584_communes(db):
    result = hanoi_map_load(vintage="2017")

    assert result == MapLoadResult(vintage="2017", created=1 + 30 + 584, updated=0, unchanged=0)
    assert _kinds("2017", BranchLevel.CITY) == {DivisionType.CITY: 1}
    assert _kinds("2017", BranchLevel.DISTRICT) == {
        DivisionType.URBAN_DISTRICT: 12,
        DivisionType.RURAL_DISTRICT: 17,
        DivisionType.TOWN: 1,
    }
    assert _kinds("2017", BranchLevel.COMMUNE) == {
        DivisionType.COMMUNE: 386,
        DivisionType.WARD: 177,
        DivisionType.TOWNSHIP: 21,
    }


def test_the_2017_map_hangs_every_commune_under_a_district_under_the_city(db):
    hanoi_map_load(vintage="2017")

    city = Branch.objects.get(level=BranchLevel.CITY)
    assert city.depth == 1
    assert (city.name, city.code, city.division_type) == ("Thành phố Hà Nội", "01", DivisionType.CITY)
    assert {d.level for d in Branch.objects.get_children(city)} == {BranchLevel.DISTRICT}
    assert Branch.objects.get_children(city).count() == 30
    assert Branch.objects.filter(level=BranchLevel.COMMUNE).exclude(depth=3).count() == 0
    assert sum(district.numchild for district in Branch.objects.get_children(city)) == 584


def test_the_2025_map_has_126_communes_and_wards_directly_under_the_city_founded_on_1_july_2025(db):
    result = hanoi_map_load(vintage="2025")

    assert (result.created, result.updated) == (1 + 126, 0)
    city = Branch.objects.get(level=BranchLevel.CITY)
    assert (city.name, city.code, city.division_type) == ("Thành phố Hà Nội", "01", DivisionType.CITY)
    assert not Branch.objects.filter(level=BranchLevel.DISTRICT).exists()
    assert _kinds("2025", BranchLevel.COMMUNE) == {DivisionType.COMMUNE: 75, DivisionType.WARD: 51}
    assert Branch.objects.get_children(city).filter(level=BranchLevel.COMMUNE, founded_on=JULY_2025).count() == 126


def test_both_maps_share_one_city_root_and_each_node_carries_its_dates(db):
    hanoi_map_load(vintage="2017")
    hanoi_map_load(vintage="2025")

    city = Branch.objects.get_root_nodes().get()
    assert Branch.objects.city_root() == city
    children = Branch.objects.get_children(city)
    assert Counter(children.values_list("level", "founded_on")) == {
        (BranchLevel.DISTRICT, None): 30,
        (BranchLevel.COMMUNE, JULY_2025): 126,
    }
    # On 30/06/2025 the tree is the 2017 map; the 2025 communes are not in force yet.
    before = Branch.objects.active_on(datetime.date(2025, 6, 30))
    assert before.filter(level=BranchLevel.COMMUNE).count() == 584
    assert before.filter(level=BranchLevel.DISTRICT).count() == 30
    assert Branch.objects.active_on(JULY_2025).filter(founded_on=JULY_2025).count() == 126


def test_well_known_units_carry_their_gso_codes(db):
    hanoi_map_load(vintage="2017")
    hanoi_map_load(vintage="2025")

    assert _named("2017", "001") == "Quận Ba Đình"
    assert _named("2017", "00001") == "Phường Phúc Xá"
    assert _named("2017", "002") == "Quận Hoàn Kiếm"
    assert _named("2017", "00061") == "Phường Hàng Bạc"
    assert _named("2017", "269") == "Thị xã Sơn Tây"
    assert _named("2017", "00376") == "Thị trấn Sóc Sơn"
    # 2025 reused old codes for new units: 00004 was Phường Trúc Bạch, now Phường Ba Đình.
    assert _named("2017", "00004") == "Phường Trúc Bạch"
    assert _named("2025", "00004") == "Phường Ba Đình"
    assert _named("2025", "00070") == "Phường Hoàn Kiếm"
    phuc_xa = Branch.objects.get(code="00001", founded_on=None)
    assert Branch.objects.get_parent(phuc_xa).code == "001"


def test_names_are_full_vietnamese_names_in_nfc(db):
    hanoi_map_load(vintage="2017")
    hanoi_map_load(vintage="2025")

    prefixes = {
        DivisionType.CITY: "Thành phố ",
        DivisionType.URBAN_DISTRICT: "Quận ",
        DivisionType.RURAL_DISTRICT: "Huyện ",
        DivisionType.TOWN: "Thị xã ",
        DivisionType.COMMUNE: "Xã ",
        DivisionType.WARD: "Phường ",
        DivisionType.TOWNSHIP: "Thị trấn ",
    }
    for name, division_type in Branch.objects.values_list("name", "division_type"):
        assert unicodedata.is_normalized("NFC", name), name
        assert name.startswith(prefixes[division_type]), name
    assert _named("2017", "00679") == "Xã Đại Áng"


def test_a_second_run_creates_and_updates_nothing(db):
    first = [hanoi_map_load(vintage=vintage) for vintage in HANOI_MAPS]
    rows = Branch.objects.count()

    second = [hanoi_map_load(vintage=vintage) for vintage in HANOI_MAPS]

    # The city is shared: the 2025 map's first run already found it there.
    assert [(r.created, r.updated, r.unchanged) for r in second] == [(0, 0, r.created + r.unchanged) for r in first]
    assert Branch.objects.count() == rows == 615 + 126
    assert Branch.objects.find_problems() == ([], [], [], [], [])


def test_a_run_corrects_a_changed_name_and_keeps_what_was_added_below(db):
    hanoi_map_load(vintage="2017")
    phuc_xa = Branch.objects.get(code="00001", founded_on=None)
    chapter = _add(phuc_xa, "Chi hội Tổ dân phố 1", BranchLevel.CHAPTER)
    Branch.objects.filter(pk=phuc_xa.pk).update(name="Phuc Xa", division_type=DivisionType.COMMUNE)

    result = hanoi_map_load(vintage="2017")

    assert (result.created, result.updated, result.unchanged) == (0, 1, 614)
    phuc_xa.refresh_from_db()
    assert (phuc_xa.name, phuc_xa.division_type) == ("Phường Phúc Xá", DivisionType.WARD)
    assert Branch.objects.filter(pk=chapter.pk, path__startswith=phuc_xa.path).exists()


def test_it_completes_a_tree_that_already_holds_part_of_the_map(db):
    city = _add(None, "Thành phố Hà Nội", BranchLevel.CITY, code="01", division_type=DivisionType.CITY)
    ba_dinh = _add(city, "Quận Ba Đình", BranchLevel.DISTRICT, code="001", division_type=DivisionType.URBAN_DISTRICT)
    phuc_xa = _add(ba_dinh, "Phường Phúc Xá", BranchLevel.COMMUNE, code="00001", division_type=DivisionType.WARD)

    result = hanoi_map_load(vintage="2017")

    assert (result.created, result.updated, result.unchanged) == (615 - 3, 0, 3)
    assert Branch.objects.get_root_nodes().get() == city
    assert Branch.objects.get(code="00001", founded_on=None) == phuc_xa
    assert Branch.objects.get_children(ba_dinh).count() == 14
    assert Branch.objects.find_problems() == ([], [], [], [], [])


def test_the_command_loads_both_maps_by_default_and_reports_the_counts(db):
    out = StringIO()
    call_command("load_hanoi_map", stdout=out)
    call_command("load_hanoi_map", "--vintage", "2025", stdout=out)

    lines = out.getvalue().splitlines()
    assert "615 created, 0 updated, 0 unchanged" in lines[0]
    assert "126 created, 0 updated, 1 unchanged" in lines[1]
    assert "0 created, 0 updated, 127 unchanged" in lines[2]
    assert Branch.objects.get_root_nodes().count() == 1
