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
        response = render(request, "403.html", {"reason": exception.message}, status=403)
        response["X-Error-Message"] = exception.message
        return response
