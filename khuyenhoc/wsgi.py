import os

from django.core.wsgi import get_wsgi_application

from khuyenhoc.background import serve_in_background

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "khuyenhoc.settings")
application = get_wsgi_application()
# The embedded mode's tasks run in a background thread of the web process (khuyenhoc.background).
serve_in_background()
