"""The portal's settings with the test app that can hold an import's apply (embedded_hold)."""

from khuyenhoc.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.imports.embedded_hold.EmbeddedHoldConfig"]  # noqa: F405
