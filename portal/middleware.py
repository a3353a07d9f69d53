import uuid

from django.utils.deprecation import MiddlewareMixin


class RequestIdMiddleware(MiddlewareMixin):
    """Give every request an id (or keep the proxy's) so logs and audit rows can be joined."""

    header = "HTTP_X_REQUEST_ID"

    def process_request(self, request):
        incoming = request.META.get(self.header, "")
        request.request_id = incoming[:64] if incoming else uuid.uuid4().hex

    def process_response(self, request, response):
        request_id = getattr(request, "request_id", None)
        if request_id:
            response["X-Request-Id"] = request_id
        return response


class PortalErrorMiddleware:
    """The one rule for refusals (portal PermissionDenied, docs/architecture.md): a view that
    serves an object the actor may not see (`@refusal_hides_object`) answers 404, as if the
    object did not exist; every other refused action answers a 403 page saying why.

    For htmx requests the reason also travels in `X-Error-Message`, which the global htmx error
    handler in static/js/app.js shows as a toast.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from .errors import PermissionDenied

        if not isinstance(exception, PermissionDenied):
            return None
        if getattr(request, "refusal_hides_object", False):
            return render(request, "404.html", status=404)
        context = {"reason": exception.message, "recorded": exception.recorded}
        response = render(request, "403.html", context, status=403)
        response["X-Error-Message"] = exception.message
        return response


class OddInputMiddleware:
    """NUL characters in a query string, form or JSON body are refused with a 400 before any
    view runs: PostgreSQL cannot store them, and no field of ours means one."""

    FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
    MESSAGE = "The request contains a NUL character, which no field accepts."

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            return self._refuse(request)
        return self.get_response(request)

    def _has_nul(self, request) -> bool:
        if "\x00" in request.path or _any_nul(request.GET):
            return True
        if request.method not in ("POST", "PUT", "PATCH"):
            return False
        if request.content_type in self.FORM_TYPES:
            return _any_nul(request.POST)
        if "json" not in request.content_type:
            return False  # binary uploads may hold NUL bytes
        # JSON: a literal NUL or its escape, in any case ("\u0000").
        body = request.body
        return b"\x00" in body or b"\\u0000" in body.lower()

    def _refuse(self, request):
        from django.http import JsonResponse
        from django.shortcuts import render

        wants_json = request.path.startswith("/api/") or "json" in request.content_type
        if wants_json:
            return JsonResponse({"error": self.MESSAGE}, status=400)
        return render(request, "400.html", {"reason": self.MESSAGE}, status=400)


def _any_nul(query_dict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values)
               for key, values in query_dict.lists())  # fmt: skip
