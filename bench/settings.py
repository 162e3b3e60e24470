"""The portal's settings plus one trivial signed-in page, the load test's baseline."""

from khuyenhoc.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
