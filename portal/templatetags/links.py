from django import template

from portal.links import is_http_url

register = template.Library()


@register.filter
def http_url(value) -> str:
    """`value` when it is an http(s) URL, else "" (use as `href="{{ x|http_url }}"`)."""
    return value if is_http_url(value) else ""
