"""`{% vendor_built "cytoscape.min.js" ... as ok %}`: are the browser libraries there?

They are built into static/vendor/ by `make static`, which needs Node.js; a machine without it
still runs the demo, and a page then says what is missing instead of loading scripts that 404.
"""

from django import template
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage

register = template.Library()


@register.simple_tag
def vendor_built(*names: str) -> bool:
    paths = [f"vendor/{name}" for name in names]
    return all(finders.find(path) or staticfiles_storage.exists(path) for path in paths)
