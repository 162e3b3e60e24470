"""The portal's URLs plus /bench/trivial/: a signed-in page that reads the session and the
user and renders a few bytes — the floor every real page is compared with."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from khuyenhoc.urls import urlpatterns as portal_urlpatterns


@login_required
def trivial(request):
    return HttpResponse(f"ok {request.user.username}", content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial, name="bench_trivial"), *portal_urlpatterns]
