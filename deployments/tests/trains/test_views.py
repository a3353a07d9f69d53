"""Train pages: plan form, the plan's picture, htmx progress that stops when done, moves."""

from django.urls import reverse

from deployments.models import Train
from deployments.trains import services
from deployments.trains.services import train_create


def planned(owner, shop, environments, names=("billing", "ledger", "invoices")):
    items = [(shop[n], "v2.0.0") for n in names]
    return train_create(actor=owner, environment=environments["staging"], title="shop", items=items)


def test_planning_from_the_form_shows_the_waves_as_a_picture(client, owner, shop, environments):
    client.force_login(owner)
    response = client.post(
        reverse("deployments:train_new"),
        {
            "environment": environments["staging"].pk,
            "title": "shop 2",
            "services": "invoices v3.1.0\nledger v2.0.0\nbilling v1.4.0",
        },
    )
    train = Train.objects.get()
    assert response.status_code == 302 and response["Location"] == train.get_absolute_url()
    page = client.get(train.get_absolute_url()).content.decode()
    assert "<svg" in page and "Wave 1" in page and "Wave 3" in page
    assert page.index("ledger v2.0.0") < page.index("billing v1.4.0") < page.index("invoices")
    assert "Owners: Payments" in page or "Owners: payments" in page
    assert "<script" not in page.split("<main", 1)[-1].split("</main>")[0]


def test_an_unknown_service_is_named_and_nothing_is_planned(client, owner, environments, shop):
    client.force_login(owner)
    response = client.post(
        reverse("deployments:train_new"),
        {"environment": environments["staging"].pk, "title": "x", "services": "nosuch v1.0.0"},
    )
    assert response.status_code == 200 and "Not in the catalog: nosuch" in response.content.decode()
    assert not Train.objects.exists()


def test_a_refused_move_says_why(client, owner, shop, environments):
    train = planned(owner, shop, environments)
    client.force_login(owner)
    billing = train.services.get(component__name="billing")
    response = client.post(
        reverse("deployments:train_move", args=[train.pk]),
        {"service": billing.pk, "wave": "1"},
        follow=True,
    )
    assert "billing depends on ledger" in response.content.decode()
    billing.refresh_from_db()
    assert billing.wave == 1


def test_progress_fragment_polls_while_running_and_stops_when_done(
    client, owner, shop, environments
):
    train = planned(owner, shop, environments)
    client.force_login(owner)
    Train.objects.filter(pk=train.pk).update(state="running")
    running = client.get(train.get_absolute_url(), headers={"HX-Request": "true"})
    assert running.status_code == 200 and 'hx-trigger="every 2s"' in running.content.decode()
    assert "<html" not in running.content.decode()
    Train.objects.filter(pk=train.pk).update(state="rolledback")
    done = client.get(train.get_absolute_url(), headers={"HX-Request": "true"})
    assert done.status_code == 286 and "hx-trigger" not in done.content.decode()


def test_anonymous_is_sent_to_sign_in(client, owner, shop, environments):
    train = planned(owner, shop, environments)
    response = client.get(train.get_absolute_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_outsider_sees_the_plan_without_move_or_start(
    client, outsider, owner, shop, environments
):
    train = planned(owner, shop, environments)
    client.force_login(outsider)
    page = client.get(train.get_absolute_url()).content.decode()
    assert "Wave 2" in page and "Start the train" not in page and "Move</button>" not in page


def test_a_viewer_may_not_open_the_plan_form(client, pm):
    client.force_login(pm)
    assert client.get(reverse("deployments:train_new")).status_code == 403


def test_the_train_list_costs_the_same_queries_for_one_train_or_many(
    client, owner, shop, environments, django_assert_max_num_queries
):
    client.force_login(owner)
    planned(owner, shop, environments)
    with django_assert_max_num_queries(8) as one:
        client.get(reverse("deployments:train_list"))
    for _ in range(5):
        planned(owner, shop, environments)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(reverse("deployments:train_list"))
    assert page.content.decode().count("shop</a>") == 6


def test_the_planner_cancels_from_the_page_and_the_timeline_says_why(
    client, owner, outsider, shop, environments
):
    train = planned(owner, shop, environments)
    client.force_login(outsider)
    assert "Cancel the train" not in client.get(train.get_absolute_url()).content.decode()
    client.force_login(owner)
    assert "Cancel the train" in client.get(train.get_absolute_url()).content.decode()
    response = client.post(
        reverse("deployments:train_cancel", args=[train.pk]),
        {"reason": "wrong ledger"},
        follow=True,
    )
    page = response.content.decode()
    assert "Cancelled" in page and "cancelled the train before it started: wrong ledger" in page
    assert "Cancel the train" not in page and "Start the train" not in page
    train.refresh_from_db()
    assert train.state == "cancelled"


def test_a_team_approves_its_part_on_the_page_and_the_starter_sees_no_button(
    client, owner, make_user, shop, environments
):
    from portal.models import TeamMembership

    fiona = make_user("fiona")
    TeamMembership.objects.create(user=fiona, team=shop["invoices"].owner)
    train = planned(owner, shop, environments)
    services.train_start(actor=owner, train=train)  # invoices is fin's: it waits for them
    client.force_login(owner)
    page = client.get(train.get_absolute_url()).content.decode()
    assert 'data-testid="train-approvals"' in page and "Waiting for a decision" in page
    assert "Approve fin" not in page
    client.force_login(fiona)
    fragment = client.get(train.get_absolute_url(), headers={"HX-Request": "true"})
    assert "Approve fin" in fragment.content.decode()
    part = train.approvals.get()
    response = client.post(
        reverse("deployments:train_approval", args=[train.pk, part.pk]),
        {"decision": "approve", "comment": "ready"},
        follow=True,
    )
    page = response.content.decode()
    assert "Approved</span> by fiona: ready" in page and "Approve fin" not in page
    assert "fiona approved fin" in page


def test_planning_in_an_environment_that_lets_the_planner_choose(client, owner, shop, environments):
    from approvals.models import ApprovalPolicy

    ApprovalPolicy.objects.create(environment=environments["prod"], train_approvals="either")
    client.force_login(owner)
    response = client.post(
        reverse("deployments:train_new"),
        {
            "environment": environments["prod"].pk,
            "title": "one go",
            "services": "ledger v2.0.0",
            "approval_mode": "train",
        },
        follow=True,
    )
    assert "Approvals: one for the train" in response.content.decode()
    assert Train.objects.get().approval_mode == "train"
