"""Hanoi's administrative maps, loaded into the branch tree from the data files beside this module.

Each map (vintage) is its own tree under its own "Thành phố Hà Nội" root, because the 2025
reform reused GSO codes for different wards: a node is identified by (vintage, code).
associations/data/README.md says where each file comes from.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from associations.models import Branch, BranchLevel, DivisionType, MapVintage

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class HanoiMap:
    vintage: MapVintage
    data_file: Path
    source: str
    data_date: str
    licence: str

    @property
    def label(self) -> str:
        return self.vintage.label


HANOI_MAPS: dict[MapVintage, HanoiMap] = {
    MapVintage.V2017: HanoiMap(
        vintage=MapVintage.V2017,
        data_file=DATA_DIR / "hanoi_2017.csv",
        source="vietnam-provinces 0.2.2",
        data_date="2020-02-25",
        licence="GPL-3.0-or-later",
    ),
    MapVintage.V2025: HanoiMap(
        vintage=MapVintage.V2025,
        data_file=DATA_DIR / "hanoi_2025.csv",
        source="vietnam-provinces 2025.10.1",
        data_date="2025-10-18",
        licence="GPL-3.0-or-later",
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

    Nodes are matched by (vintage, code), so nodes already in the tree (with the chapters and
    boards under them) are kept. A second run creates and updates nothing.
    """
    hanoi_map = HANOI_MAPS[MapVintage(vintage)]
    units = _read_units(hanoi_map.data_file)
    nodes = {
        node.code: node
        for node in Branch.objects.select_for_update().filter(
            vintage=hanoi_map.vintage, code__in=[unit.code for unit in units]
        )
    }
    created = unchanged = 0
    changed = []
    for unit in units:
        node = nodes.get(unit.code)
        if node is None:
            fields = {
                "name": unit.name,
                "level": unit.level,
                "division_type": unit.division_type,
                "code": unit.code,
                "vintage": hanoi_map.vintage,
            }
            if unit.parent_code:
                node = Branch.objects.add_child(nodes[unit.parent_code], create_kwargs=fields)
            else:
                node = Branch.objects.add_root(create_kwargs=fields)
            nodes[unit.code] = node
            created += 1
        elif (node.name, node.division_type) != (unit.name, unit.division_type):
            node.name, node.division_type = unit.name, unit.division_type
            changed.append(node)
        else:
            unchanged += 1
    Branch.objects.bulk_update(changed, ["name", "division_type"])
    return MapLoadResult(vintage=hanoi_map.vintage.value, created=created, updated=len(changed), unchanged=unchanged)
