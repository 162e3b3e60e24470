"""What a synthetic Hanoi holds, at full size; other scales multiply every count and amount.

The figures the generated rows must reproduce through the portal's own reports are the ones
quoted in the project's issue from the association's October 2017 report (Plan 99/KH-KHHN
context):
- funds of 7 fund models raised more than 67 billion đồng in 2016 and more than 86 billion
  đồng in the first 8 months of 2017;
- in the two years to October 2017 — here the school years 2015–2016 and 2016–2017, i.e.
  01/09/2015–31/08/2017 — nearly 36 billion đồng of scholarships went to more than
  1 360 000 award turns of pupils, teachers and workers, including more than 15 200 turns
  for poor pupils overcoming hardship;
- at least 864 000 members in 2017, over 1 million by 2020; about 20 000 organisations;
  the 2017 map with about 8 200 residential chapters, 11 500 clan boards and 2 200 school
  boards.
Every other number here (the years around them, the split by kind, the averages) is an
assumption of this generator, chosen to look plausible, not a published figure.
"""

from __future__ import annotations

import datetime

# "tenth": a mid scale for profiling the full generation's stages (its money and learning
# drawn like the full scale's, at 1/10), in a few minutes.
SCALES = {"full": 1.0, "tenth": 0.1, "small": 0.01}

RESIDENTIAL_CHAPTERS = 8_200
CLAN_CHAPTERS = 11_500  # "clan boards": chapters of a clan, with no organisation behind them

# Organisations by kind (about 20 000). Every school has its board (2 200 school boards).
ORGANIZATIONS = {
    "school": 2_200,
    "learning_centre": 584,
    "agency": 3_100,
    "public_service": 4_300,
    "armed_forces": 800,
    "enterprise": 8_400,
    "other": 616,
}
ENTERPRISE_BOARD_SHARE = 0.15

# People per organisation (mean) and the split of its headcount over the five categories
# Plan 99 counts: party members, cadres, civil servants, public employees, workers.
HEADCOUNT = {
    "agency": (45, (0.35, 0.25, 0.35, 0.05, 0.0)),
    "public_service": (60, (0.20, 0.05, 0.05, 0.60, 0.10)),
    "armed_forces": (80, (0.50, 0.30, 0.10, 0.0, 0.10)),
    "school": (55, (0.25, 0.05, 0.0, 0.65, 0.05)),
    "enterprise": (40, (0.05, 0.02, 0.0, 0.0, 0.93)),
    "learning_centre": (3, (0.40, 0.40, 0.0, 0.20, 0.0)),
    "other": (8, (0.20, 0.0, 0.0, 0.0, 0.80)),
}
YEARS = range(2015, 2021)

# Members active on 31/12 of each year, in total (organisations' people and residents).
# 2016's figure already exceeds 864 000, so every day of 2017 counts at least that many.
MEMBERS_ACTIVE = {2015: 830_000, 2016: 866_000, 2017: 890_000, 2018: 945_000, 2019: 1_000_000, 2020: 1_065_000}

# Share of the eventual (31/12/2020) boards, and members of organisations, reached by each
# year's end; the eventual share varies by district.
BOARD_CURVE = {
    2012: 0.45,
    2013: 0.55,
    2014: 0.62,
    2015: 0.68,
    2016: 0.73,
    2017: 0.78,
    2018: 0.86,
    2019: 0.93,
    2020: 1.0,
}
BOARD_EVENTUAL = (0.60, 0.85)
MEMBER_CURVE = {2014: 0.62, 2015: 0.68, 2016: 0.72, 2017: 0.75, 2018: 0.83, 2019: 0.92, 2020: 1.0}
MEMBER_EVENTUAL = (0.52, 0.75)

# Money raised (đồng) by period; the amounts are exact, so the reports show them to the đồng.
D = datetime.date
DONATION_PERIODS = [
    (D(2015, 1, 1), D(2015, 12, 31), 58_400_000_000),
    (D(2016, 1, 1), D(2016, 12, 31), 67_350_000_000),  # "more than 67 billion in 2016"
    (D(2017, 1, 1), D(2017, 8, 31), 86_420_000_000),  # "more than 86 billion in 8 months of 2017"
    (D(2017, 9, 1), D(2017, 12, 31), 31_600_000_000),
    (D(2018, 1, 1), D(2018, 12, 31), 121_800_000_000),
    (D(2019, 1, 1), D(2019, 12, 31), 128_500_000_000),
    (D(2020, 1, 1), D(2020, 12, 31), 133_200_000_000),
]
DONATION_MEAN = 600_000
REGULAR_SHARE = 0.4  # of each period's money, spread over every fund by weight early in the period
DONATION_UNIT = 10_000  # donations are whole tens of thousands of đồng

# Scholarships by school year (start year): turns, turns for poor pupils overcoming
# hardship, amount in đồng. 2015–2016 and 2016–2017 together: 1 363 000 turns, 15 360
# hardship turns, 35.9 billion đồng ("nearly 36 billion").
AWARD_YEARS = {
    2015: (675_000, 7_680, 17_600_000_000),
    2016: (688_000, 7_680, 18_300_000_000),
    2017: (700_000, 8_000, 19_000_000_000),
    2018: (715_000, 8_000, 20_000_000_000),
    2019: (730_000, 8_000, 21_000_000_000),
}
AWARD_UNIT = 1_000
# The published turns average about 27 000 đồng: they count the many small gifts. The demo
# (`make run`, scale "small") pays the published money at 1/100 in fewer, real awards of a
# few hundred thousand to a few million đồng, in whole 50 000 đồng (issue 15): its turns are
# 1/20 of the scaled published turns. The full scale keeps the published turns, the size the
# portal must serve (about 700 000 a year).
AWARD_TURN_SHARE = {"full": 1.0, "tenth": 1.0, "small": 0.05}
AWARD_UNITS = {"full": AWARD_UNIT, "tenth": AWARD_UNIT, "small": 50_000}
# How much more a hardship award weighs than an ordinary pupil's (drawn uniformly in range).
HARDSHIP_WEIGHT = {"full": (25, 40), "tenth": (25, 40), "small": (3, 6)}
# How long a round may wait for donations when no fund up to the city can pay it yet.
ROUND_MAX_WAIT_MONTHS = 6
# Rounds of a school year: (month, day, name pattern), the year of the month follows.
ROUND_KINDS = [
    (9, 5, "Trao học bổng khai giảng năm học {sy}"),
    (1, 20, "Học bổng đón Tết, năm học {sy}"),
    (5, 25, "Khen thưởng cuối năm học {sy}"),
]

# Share of each kind of branch that keeps a fund, and each fund model's weight in donations
# and awards (a city or district association's fund raises more than a clan's).
FUND_SHARE = {"residential": 0.30, "clan": 0.40, "school": 1.0, "plan_board": 0.45, "enterprise_board": 1.0}
FAMILY_FUNDS = 580
FUND_WEIGHT = {
    ("hoi-cac-cap", "city"): 400,
    ("hoi-cac-cap", "district"): 60,
    ("hoi-cac-cap", "commune"): 12,
    ("nha-truong", None): 6,
    ("dong-ho", None): 2,
    ("chi-hoi-thon-to", None): 2,
    ("doanh-nghiep", None): 8,
    ("co-quan-don-vi", None): 3,
    ("ca-nhan-gia-dinh", None): 3,
}


def scaled(count: int, factor: float) -> int:
    return max(0, round(count * factor))


def scaled_money(amount: int, factor: float, unit: int) -> int:
    """An amount scaled and kept a whole number of units."""
    return round(amount * factor / unit) * unit


# --- Learning titles, 2021–2026 (the learning stage, demo/generator/learning.py) ------------
#
# Published figures used:
# - about 2.4 million households in all: DESIGN says about 2.4 million households may
#   register as learning families every year (issue 12: "`--scale full` produces Hanoi's
#   size, about 2.4 million households"). They are spread over the communes by the same
#   weights as the residents; every commune holds at least one.
# - the shares recognised: Plan 291/KH-UBND targets, as quoted in issue 12 — by 2025 (→ 2030)
#   Gia đình học tập 70 % (→ 80 %) of households, Dòng họ học tập 65 % (→ 75 %) of clans,
#   Cộng đồng học tập 65 % (→ 75 %) of villages and residential groups, Đơn vị học tập 80 %
#   (→ 90 %) of units. The generated shares rise towards them and pass the 2025 target in
#   2025–2026 (RECOGNISED_SHARE). Công dân học tập has no eligible total here (its target is a
#   share of working people, not of a registry): its citizens are the ones who took part.
# Assumptions of this generator (not published figures): the numbers of clans, communities
# and citizens, the shares that withdraw, stay unevaluated or fail, every date and score.
LEARNING_YEARS = range(2021, 2027)
# The learning stage's own scale factors: at small scale (the demo, loaded on SQLite by
# `make run`) 1/250 rather than 1/100 — some 16 households a commune — so the demo's six
# years of registrations, evaluations and scores load in seconds.
LEARNING_SCALES = {"full": 1.0, "tenth": 0.1, "small": 0.004}
HOUSEHOLDS = 2_400_000
COMMUNITIES = 13_500  # villages (thôn) and residential groups (tổ dân phố)
CLANS = 23_000
CITIZENS = 240_000  # people entered for Công dân học tập, one in ten households
CITIZEN_MEMBER_SHARE = 0.3  # of the citizens, the share who are generated members of their commune
# Share of the eligible subjects recognised each year, by title code: Plan 291/KH-UBND
# targets, as quoted in issue 12 (see above), reached in 2025.
RECOGNISED_SHARE = {
    "gia-dinh-hoc-tap": {2021: 0.56, 2022: 0.60, 2023: 0.64, 2024: 0.67, 2025: 0.71, 2026: 0.74},
    "dong-ho-hoc-tap": {2021: 0.50, 2022: 0.54, 2023: 0.58, 2024: 0.62, 2025: 0.66, 2026: 0.68},
    "cong-dong-hoc-tap": {2021: 0.50, 2022: 0.54, 2023: 0.58, 2024: 0.62, 2025: 0.66, 2026: 0.68},
    "don-vi-hoc-tap": {2021: 0.70, 2022: 0.72, 2023: 0.75, 2024: 0.78, 2025: 0.81, 2026: 0.83},
    # of the registry of citizens (no eligible total)
    "cong-dan-hoc-tap": {2021: 0.30, 2022: 0.36, 2023: 0.42, 2024: 0.48, 2025: 0.54, 2026: 0.60},
}
COMMUNE_SPREAD = (0.92, 1.06)  # each commune's share is the city's times a factor in this range
WITHDRAWN_SHARE = 0.01  # of the registrations
UNEVALUATED_SHARE = 0.02  # of the registrations not withdrawn: still "registered" at the year's end
PASS_SHARE = 0.93  # of the evaluations
# Score rows (one per criterion of each evaluation): written at small scale; at full scale
# they would be some 40 million rows, beyond the 10-minute budget of the whole generation,
# so the full data holds each evaluation's total, level and result without its scores.
SCORE_ROWS = {"full": False, "tenth": False, "small": True}
