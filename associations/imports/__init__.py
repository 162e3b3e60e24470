"""Excel imports of the registry: members and organisations (with their yearly headcount).

Rules a row must pass, beyond each cell's own format:
- its branch (by administrative code, or by exact name when that name is unique) lies in the
  uploader's subtree — an import never writes outside it;
- members match an existing member by citizen ID, or, when the row has none, by name + date
  of birth + branch; organisations match by name within their branch;
- a person or organisation appears once in the file.
Everything is looked up per chunk of rows in a fixed number of queries.
"""

from associations.imports.members import MEMBER_COLUMNS, MEMBER_FIELDS, MemberImport
from associations.imports.organizations import (
    HEADCOUNT_FIELDS,
    ORGANIZATION_COLUMNS,
    ORGANIZATION_FIELDS,
    OrganizationImport,
)
from associations.imports.registry import (
    BRANCH_HEADER,
    GENDER_LABELS,
    MEMBER_CATEGORY_LABELS,
    ORGANIZATION_KIND_LABELS,
    RegistryImport,
    name_key,
)

__all__ = [
    "BRANCH_HEADER",
    "GENDER_LABELS",
    "HEADCOUNT_FIELDS",
    "MEMBER_CATEGORY_LABELS",
    "MEMBER_COLUMNS",
    "MEMBER_FIELDS",
    "ORGANIZATION_COLUMNS",
    "ORGANIZATION_FIELDS",
    "ORGANIZATION_KIND_LABELS",
    "MemberImport",
    "OrganizationImport",
    "RegistryImport",
    "name_key",
]
