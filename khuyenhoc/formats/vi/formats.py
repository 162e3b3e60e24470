# Vietnamese formats. Django's own "vi" module shows dates as "d/m/Y" but accepts only
# ISO and US input, and groups numbers with ",". Vietnamese writes 12/01/2025 for
# 12 January 2025 and 1.234.567 for a million-odd, so both are set here.
# https://docs.djangoproject.com/en/5.2/topics/i18n/formatting/#creating-custom-format-files

DATE_FORMAT = "d/m/Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "H:i d/m/Y"
SHORT_DATETIME_FORMAT = "H:i d/m/Y"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "m/Y"
MONTH_DAY_FORMAT = "d/m"
FIRST_DAY_OF_WEEK = 1  # Monday

# Day first, always. ISO (2025-01-12) stays accepted because <input type=date> sends it;
# month-first input such as 01/13/2025 is refused rather than read as a day.
DATE_INPUT_FORMATS = [
    "%d/%m/%Y",  # 12/01/2025
    "%d-%m-%Y",  # 12-01-2025
    "%d.%m.%Y",  # 12.01.2025
    "%Y-%m-%d",  # 2025-01-12
]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
]

DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
