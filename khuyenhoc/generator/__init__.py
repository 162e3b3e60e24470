"""A synthetic Hanoi, generated from row-level records (see `spec` for every figure and its source).

`generate_hanoi(scale=, seed=)` loads it into the current database (PostgreSQL COPY, or
multi-row INSERTs elsewhere) and computes Plan 99's indicators with the plans app.
"""

from khuyenhoc.generator.core import GeneratorError, HanoiGenerator, Summary, generate_hanoi
from khuyenhoc.generator.spec import SCALES

__all__ = ["SCALES", "GeneratorError", "HanoiGenerator", "Summary", "generate_hanoi"]
