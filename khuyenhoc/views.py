from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from khuyenhoc.health import health_report


@never_cache
@require_GET
def healthz(request):
    """Up/down per component for anyone; the details only for a signed-in superuser."""
    healthy, report = health_report(detailed=getattr(request.user, "is_superuser", False))
    return JsonResponse(report, status=200 if healthy else 503)
