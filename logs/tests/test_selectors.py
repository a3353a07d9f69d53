"""The catalog's log settings become LogQL: templates, overrides, validation."""

import pytest
from django.core.exceptions import ValidationError

from catalog.models import ComponentEnvironment, validate_log_selector
from logs.selectors import error_query, matchers


def test_the_environment_template_is_filled_per_component(ledger, environments):
    row = ComponentEnvironment.objects.get(component=ledger, environment=environments["staging"])
    assert matchers(row) == [
        ("cluster", "=", "staging"), ("namespace", "=", "default"), ("app", "=", "ledger"),
    ]  # fmt: skip
    row.kube_rollout = "ledger-rollout"
    assert ("app", "=", "ledger-rollout") in matchers(row)
    query = error_query(row, ["1.4.0", "1.5.0"])
    assert query.startswith('{cluster="staging", namespace="default", app="ledger-rollout", ')
    assert 'version=~"1\\\\.4\\\\.0|1\\\\.5\\\\.0"}' in query
    assert query.endswith('| json | level=~"error|fatal|critical"')


def test_a_components_own_selector_and_version_label_win(ledger, environments):
    row = ComponentEnvironment.objects.get(component=ledger, environment=environments["prod"])
    row.environment.log_version_label = "app_version"
    row.log_selector = 'service_name="$component", env="$environment"'
    assert error_query(row, ["2.0.0"]).startswith(
        '{service_name="ledger", env="prod", app_version="2.0.0"}'
    )


@pytest.mark.parametrize(
    "value", ["", '{app="x"}', "app=x", 'app="x" namespace="y"', 'app-name="x"', 'app=="x"']
)
def test_a_malformed_selector_is_refused_with_an_example(value):
    with pytest.raises(ValidationError) as caught:
        validate_log_selector(value)
    assert 'app="$workload"' in caught.value.messages[0]


def test_the_admin_form_refuses_a_malformed_selector(environments):
    environment = environments["staging"]
    environment.log_selector = "{app=x}"
    with pytest.raises(ValidationError) as caught:
        environment.full_clean()
    assert "log_selector" in caught.value.message_dict
