from django import template
from django.db.models import Max

from catalog.models import ApiRelation

from ..models import ApiDefinition

register = template.Library()


@register.simple_tag
def component_apis(component):
    """The API relations of `component` and the definitions published for it."""
    relations = (
        ApiRelation.objects.filter(component=component)
        .select_related("api__owner")
        .order_by("relation", "api__name")
    )
    definitions = ApiDefinition.objects.filter(component=component).annotate(
        latest=Max("versions__number")
    )
    return {"relations": list(relations), "definitions": list(definitions)}
