"""A test app for tests/imports/test_embedded_apply.py: in a portal started with the settings of
tests.imports.embedded_hold_settings and EMBEDDED_HOLD_DIR set, the member import's apply stops
after writing its first chunk (inside its one transaction) until the test lets it go on.

The hold is installed in every process that sets Django up, so it also holds an apply run by
the embedded mode's worker process; processes meet through files in EMBEDDED_HOLD_DIR:
`held` (written by the apply, with its process id) and `carry-on` (written by the test)."""

import os
import time
from pathlib import Path

from django.apps import AppConfig


class EmbeddedHoldConfig(AppConfig):
    name = "tests.imports.embedded_hold"
    label = "embedded_hold"

    def ready(self):
        folder = os.environ.get("EMBEDDED_HOLD_DIR")
        if not folder:
            return
        from khuyenhoc.imports import adapter_class

        adapter = adapter_class("members")
        write = adapter.write

        def held_write(self, plan):
            write(self, plan)
            held = Path(folder) / "held"
            if not held.exists():
                held.write_text(str(os.getpid()))
                deadline = time.monotonic() + 600
                while not (Path(folder) / "carry-on").exists() and time.monotonic() < deadline:
                    time.sleep(0.05)

        adapter.write = held_write
