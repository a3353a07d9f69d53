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
