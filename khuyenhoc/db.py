"""Database helpers that differ between PostgreSQL and the embedded SQLite default."""

from django.db import connection
from django.db.models import F
from django.db.models.functions import Collate

# ICU collation shipped with PostgreSQL builds that have ICU (Debian's and the official image).
VIETNAMESE_COLLATION = "vi-VN-x-icu"


def vietnamese_order(field: str, *, descending: bool = False):
    """Order by a text field in Vietnamese alphabetical order where the database knows it."""
    expression = Collate(F(field), VIETNAMESE_COLLATION) if connection.vendor == "postgresql" else F(field)
    return expression.desc() if descending else expression.asc()
