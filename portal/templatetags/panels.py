"""`{% load panels %}{% render_panels panels "main" %}`: a page's panels of one slot, in order."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def render_panels(context, panels, slot: str = "main"):
    """Inline panels render like `{% include %}` (they see the page's context, so they reuse
    what the page loaded); lazy ones render their placeholder, which htmx replaces."""
    engine = context.template.engine
    html = []
    for bound in panels:
        if bound.slot != slot:
            continue
        if bound.lazy:
            with context.push(panel=bound):
                html.append(engine.get_template(bound.panel.placeholder).render(context))
            continue
        extra = bound.panel.context(context.request, bound.target, context.flatten())
        with context.push(extra, panel=bound):
            html.append(engine.get_template(bound.panel.template).render(context))
    return mark_safe("".join(html))  # noqa: S308  (each part is a rendered, escaped template)
