"""The try-it rate limit under concurrency: racing calls of one person never pass the limit."""

import threading
from types import SimpleNamespace

import pytest
from django.db import connection, connections

from apidocs.models import ApiDefinition, TryItCall
from apidocs.tryit import RateLimited, _rate_limit_claim
from catalog.models import Component, Team


@pytest.mark.django_db(transaction=True)
def test_racing_calls_of_one_person_never_pass_the_limit(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer anyway")
    pm = make_user("pat")
    component = Component.objects.create(name="greeter", owner=Team.objects.create(name="t"))
    definition = ApiDefinition.objects.create(component=component, name="greeter")
    target = SimpleNamespace(
        policy=SimpleNamespace(calls_per_minute=3),
        definition=definition,
        environment=SimpleNamespace(name="staging"),
    )
    start, outcomes = threading.Barrier(8), []

    def one_call():
        audit = SimpleNamespace(call=None, record=lambda *a, **k: None)
        try:
            start.wait()
            _rate_limit_claim(pm, target, SimpleNamespace(operation="Say"), audit)
            outcomes.append("through")
        except RateLimited:
            outcomes.append("limited")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one_call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["limited"] * 5 + ["through"] * 3
    assert TryItCall.objects.exclude(status="rate-limited").count() == 3
