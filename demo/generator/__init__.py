"""A synthetic Hanoi, generated from row-level records (see `spec` for every figure and its source).

`generate_hanoi(scale=, seed=)` loads it into the current database (PostgreSQL COPY, or
multi-row INSERTs elsewhere) and computes Plan 99's indicators with the plans app.
"""

# The rows are written in bulk past the apps' services (no audit records, no per-row checks):
# a synthetic load for the benchmarks and the demo, fast at full scale. Nothing a user does
# goes this way; every write from a page, an import or a task goes through the services.

from demo.generator.core import GeneratorError, HanoiGenerator, Summary, generate_hanoi
from demo.generator.spec import SCALES

__all__ = ["SCALES", "GeneratorError", "HanoiGenerator", "Summary", "generate_hanoi"]
