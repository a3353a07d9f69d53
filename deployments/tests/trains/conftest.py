import pytest

from catalog.models import Component, ComponentEnvironment, Dependency, Team


@pytest.fixture
def shop(ledger, payments, environments):
    """ledger <- billing <- invoices (sync), ledger <- audit (event), all in staging."""
    parts = {"ledger": ledger}
    for name, owner in (("billing", payments), ("invoices", Team.objects.create(name="fin"))):
        parts[name] = Component.objects.create(name=name, owner=owner)
    parts["audit"] = Component.objects.create(name="audit", owner=payments)
    for name in ("billing", "invoices", "audit"):
        ComponentEnvironment.objects.create(
            component=parts[name], environment=environments["staging"]
        )
    Dependency.objects.create(source=parts["billing"], target=ledger, kind="sync")
    Dependency.objects.create(source=parts["invoices"], target=parts["billing"], kind="sync")
    Dependency.objects.create(source=parts["audit"], target=ledger, kind="event")
    return parts
