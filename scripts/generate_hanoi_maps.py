"""Extract Hanoi's administrative map from the `vietnam-provinces` package into a small CSV.

A one-off developer tool: it ran once per map to produce associations/data/hanoi_<vintage>.csv
and is never imported by the portal. Run it with the Python of a throwaway venv that holds
the pinned release, from the repository root:

    python3 -m venv /tmp/vp2017 && /tmp/vp2017/bin/pip install vietnam-provinces==0.2.2
    /tmp/vp2017/bin/python scripts/generate_hanoi_maps.py 2017

    python3 -m venv /tmp/vp2025 && /tmp/vp2025/bin/pip install vietnam-provinces==2025.10.1
    /tmp/vp2025/bin/python scripts/generate_hanoi_maps.py 2025

Standard library only, so it runs in that venv without Django.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import unicodedata
from collections import Counter
from importlib.metadata import version
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "associations" / "data"
HANOI_PROVINCE_CODE = 1

# The release each committed file was generated from; associations/data/README.md says why.
PINNED_RELEASES = {"2017": "0.2.2", "2025": "2025.10.1"}

# The package's division types → associations.models.DivisionType values.
DIVISION_TYPES = {
    "thành phố trung ương": "thanh_pho",
    "quận": "quan",
    "huyện": "huyen",
    "thị xã": "thi_xa",
    "xã": "xa",
    "phường": "phuong",
    "thị trấn": "thi_tran",
}

# Typos in the GSO export the package was built from, fixed here so the portal shows the
# real name; (vintage, code) → (name in the package, corrected name). Listed in the data README.
NAME_CORRECTIONS = {
    ("2017", "00679"): ("Xã Đại áng", "Xã Đại Áng"),
}

COLUMNS = ["level", "code", "name", "division_type", "parent_code"]


def _name(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def _row(level: str, code: str, unit: dict, parent_code: str) -> dict:
    return {
        "level": level,
        "code": code,
        "name": _name(unit["name"]),
        "division_type": DIVISION_TYPES[unit["division_type"]],
        "parent_code": parent_code,
    }


def hanoi_rows(provinces: list[dict], vintage: str) -> list[dict]:
    """City first, then districts, then communes, each in GSO code order: parents before children."""
    (hanoi,) = (p for p in provinces if p["code"] == HANOI_PROVINCE_CODE)
    city_code = f"{hanoi['code']:02d}"
    rows = [_row("city", city_code, hanoi, "")]
    if vintage == "2017":
        districts = sorted(hanoi["districts"], key=lambda d: d["code"])
        communes = []
        for district in districts:
            district_code = f"{district['code']:03d}"
            rows.append(_row("district", district_code, district, city_code))
            communes += [_row("commune", f"{ward['code']:05d}", ward, district_code) for ward in district["wards"]]
        rows += sorted(communes, key=lambda r: r["code"])
    else:
        if "districts" in hanoi:
            sys.exit("This release still has districts: it is not the 2025 map.")
        rows += sorted(
            (_row("commune", f"{ward['code']:05d}", ward, city_code) for ward in hanoi["wards"]),
            key=lambda r: r["code"],
        )
    for row in rows:
        wrong, right = NAME_CORRECTIONS.get((vintage, row["code"]), (None, None))
        if wrong is not None:
            if row["name"] != wrong:
                sys.exit(f"{row['code']} is {row['name']!r}, not {wrong!r}: review NAME_CORRECTIONS.")
            row["name"] = right
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vintage", choices=sorted(PINNED_RELEASES))
    parser.add_argument("--output", type=Path, help="default: associations/data/hanoi_<vintage>.csv")
    args = parser.parse_args()

    import vietnam_provinces

    installed = version("vietnam-provinces")
    if installed != PINNED_RELEASES[args.vintage]:
        sys.exit(
            f"vietnam-provinces {installed} is installed; the {args.vintage} map is pinned to "
            f"{PINNED_RELEASES[args.vintage]}. Change PINNED_RELEASES and the data README together."
        )
    provinces = json.loads(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
    rows = hanoi_rows(provinces, args.vintage)

    output = args.output or DATA_DIR / f"hanoi_{args.vintage}.csv"
    with output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    kinds = Counter((row["level"], row["division_type"]) for row in rows)
    print(f"vietnam-provinces {installed} → {output}: {len(rows)} rows")
    for (level, division_type), count in sorted(kinds.items()):
        print(f"  {level:<9} {division_type:<10} {count}")


if __name__ == "__main__":
    main()
