"""View decorators shared by every app."""

from functools import wraps

from django.views.decorators.http import require_http_methods, require_POST


def mutating(view):
    """Mark a view as one that changes state, and accept POST only.

    The RBAC matrix test (portal/tests/test_rbac_matrix.py) finds every view marked like this in
    the URL conf and fails until the view has a row in an app's `tests/rbac.py` table.
    """
    guarded = require_POST(view)

    @wraps(guarded)
    def wrapper(request, *args, **kwargs):
        return guarded(request, *args, **kwargs)

    wrapper.mutating = True
    return wrapper


def mutating_form(view):
    """Like `mutating`, for a view that shows its form on GET and changes state on POST.

    The RBAC matrix posts to it like any mutating view; GET only renders.
    """
    guarded = require_http_methods(["GET", "POST"])(view)

    @wraps(guarded)
    def wrapper(request, *args, **kwargs):
        return guarded(request, *args, **kwargs)

    wrapper.mutating = True
    return wrapper
