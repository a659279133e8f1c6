"""The login wall: every page but the admin's own and those marked public needs staff."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.urls import reverse


def public(view):
    """Mark a view as reachable without logging in."""
    view.litecreds_public = True
    return view


class StaffRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "litecreds_public", False):
            return None
        if request.path.startswith(reverse("admin:index")):
            return None  # the admin enforces staff itself, login page included
        user = request.user
        if user.is_authenticated and user.is_active and user.is_staff:
            return None
        return redirect_to_login(request.get_full_path(), reverse(settings.LOGIN_URL))


class MaxRequestSizeMiddleware:
    """Refuse a request body larger than LITECREDS_MAX_REQUEST_BYTES before reading it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length", status=400, content_type="text/plain")
        limit = settings.LITECREDS_MAX_REQUEST_BYTES
        if length > limit:
            return HttpResponse(
                f"Request too large: at most {limit // (1024 * 1024)} MB",
                status=413,
                content_type="text/plain",
            )
        return self.get_response(request)


class HealthCheckMiddleware:
    """Answer /healthz before sessions and users: a load balancer's probe needs neither, and
    must get its 503 even when the database (where sessions live) is gone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            from litecreds.views import healthz

            return healthz(request)
        return self.get_response(request)
