"""The sandbox Argo CD answers reads side by side: a read takes the reconcile lock only when a
refresh has something to do, and the Kubernetes store finds a ReplicaSet's pods by an owner
index (kept in step with every write and delete) instead of scanning every pod."""

import threading

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from sandbox.kube_store import Store


def _pod(name: str, owner: str | None) -> dict:
    refs = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner, "uid": owner}]
    metadata = {"name": name, "namespace": "default", "ownerReferences": refs if owner else []}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [{"name": "app", "image": "x:1"}]},
    }


def test_pods_listed_by_owner_follow_creates_updates_and_deletes():
    store = Store()
    for name, owner in (("b", "rs-1"), ("a", "rs-1"), ("c", "rs-2"), ("d", None)):
        store.create("pods", "default", _pod(name, owner))

    def owned(uid):
        return [p["metadata"]["name"] for p in store.list("pods", "default", owner_uid=uid)]

    assert owned("rs-1") == ["a", "b"]  # sorted by name, as the full scan gave
    store.update("pods", "default", "a", _pod("a", "rs-2"), check_version=False)
    assert (owned("rs-1"), owned("rs-2")) == (["b"], ["a", "c"])
    store.delete("pods", "default", "c")
    assert (owned("rs-2"), owned("nobody")) == (["a"], [])
    assert [p["metadata"]["name"] for p in store.list("pods")] == ["a", "b", "d"]


def test_a_read_with_nothing_due_does_not_wait_for_the_reconcile_lock(release_sandbox):
    argo = release_sandbox.state.shared["argocd"]
    name = sorted(argo.apps)[0]

    def get():
        environ = EnvironBuilder(
            path=f"/api/v1/applications/{name}",
            headers={"Authorization": "Bearer switchyard-sandbox"},
        ).get_environ()
        return argo.handle(Request(environ))

    assert get().status_code == 200  # refreshes first when anything is due
    argo.due = float("inf")  # nothing due at this HEAD
    answers = []
    with argo.lock:  # the controller (or a write) holds it meanwhile
        reader = threading.Thread(target=lambda: answers.append(get().status_code))
        reader.start()
        reader.join(timeout=30)
    assert answers == [200]
