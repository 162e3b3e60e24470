"""Hanoi's administrative maps, loaded into the one dated branch tree from the data files
beside this module.

Every map lives under the same city root "Thành phố Hà Nội" (code 01). A map's units are
founded on the day the map came into force (None for the oldest map, whose units were there
before the portal's history starts): the 2025 reform reused GSO codes for different wards,
so a node is identified by (code, founded_on). Loading a later map only founds its units;
dissolving the old ones and moving what lived under them is a reorganisation (the
reorganisation app). associations/data/README.md says where each file comes from.
"""

from __future__ import annotations

import csv
import datetime
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from associations.models import Branch, BranchLevel, DivisionType

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class HanoiMap:
    key: str
    data_file: Path
    source: str
    data_date: str
    licence: str
    # The day the map's units came into force; None for the oldest map (undated units).
    in_force_from: datetime.date | None


HANOI_MAPS: dict[str, HanoiMap] = {
    "2017": HanoiMap(
        key="2017",
        data_file=DATA_DIR / "hanoi_2017.csv",
        source="vietnam-provinces 0.2.2",
        data_date="2020-02-25",
        licence="GPL-3.0-or-later",
        in_force_from=None,
    ),
    "2025": HanoiMap(
        key="2025",
        data_file=DATA_DIR / "hanoi_2025.csv",
        source="vietnam-provinces 2025.10.1",
        data_date="2025-10-18",
        licence="GPL-3.0-or-later",
        # Resolution 1656/NQ-UBTVQH15: Hanoi's 126 communes and wards from 01/07/2025.
        in_force_from=datetime.date(2025, 7, 1),
    ),
}


@dataclass(frozen=True)
class MapLoadResult:
    vintage: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class _Unit:
    level: str
    code: str
    name: str
    division_type: str
    parent_code: str


def _read_units(path: Path) -> list[_Unit]:
    with path.open(encoding="utf-8", newline="") as handle:
        units = [
            _Unit(
                level=BranchLevel(row["level"]),
                code=row["code"].strip(),
                # NFC, so that a file re-saved by an editor in NFD does not rename every node.
                name=unicodedata.normalize("NFC", row["name"].strip()),
                division_type=DivisionType(row["division_type"]),
                parent_code=row["parent_code"].strip(),
            )
            for row in csv.DictReader(handle)
        ]
    seen: set[str] = set()
    for unit in units:
        if unit.parent_code and unit.parent_code not in seen:
            raise ValueError(f"{path.name}: {unit.code} comes before its parent {unit.parent_code}.")
        if unit.code in seen:
            raise ValueError(f"{path.name}: code {unit.code} appears twice.")
        seen.add(unit.code)
    return units


@transaction.atomic
def hanoi_map_load(*, vintage: str) -> MapLoadResult:
    """Create the map's missing nodes and correct changed names and types; never delete.

    The city is the tree's one root, shared by every map. The other nodes are matched by
    (code, founded_on), so nodes already in the tree (with the chapters and boards under
    them) are kept. A second run creates and updates nothing.
    """
    hanoi_map = HANOI_MAPS[str(vintage)]
    units = _read_units(hanoi_map.data_file)
    founded_on = hanoi_map.in_force_from
    codes = [unit.code for unit in units if unit.level != BranchLevel.CITY]
    # filter(founded_on=None) is IS NULL: the oldest map's undated nodes.
    nodes = {
        node.code: node
        for node in Branch.objects.select_for_update().filter(depth__gt=1, code__in=codes, founded_on=founded_on)
    }
    created = unchanged = 0
    changed = []
    for unit in units:
        if unit.level == BranchLevel.CITY:
            node = Branch.objects.filter(depth=1, level=BranchLevel.CITY, code=unit.code).first()
            if node is None:
                node = Branch.objects.add_root(
                    create_kwargs={
                        "name": unit.name,
                        "level": unit.level,
                        "division_type": unit.division_type,
                        "code": unit.code,
                    }
                )
                created += 1
            else:
                unchanged += 1
            nodes[unit.code] = node
            continue
        node = nodes.get(unit.code)
        if node is None:
            fields = {
                "name": unit.name,
                "level": unit.level,
                "division_type": unit.division_type,
                "code": unit.code,
                "founded_on": founded_on,
            }
            node = Branch.objects.add_child(nodes[unit.parent_code], create_kwargs=fields)
            nodes[unit.code] = node
            created += 1
        elif (node.name, node.division_type) != (unit.name, unit.division_type):
            node.name, node.division_type = unit.name, unit.division_type
            changed.append(node)
        else:
            unchanged += 1
    Branch.objects.bulk_update(changed, ["name", "division_type"])
    return MapLoadResult(vintage=hanoi_map.key, created=created, updated=len(changed), unchanged=unchanged)
