"""Cycle detection in a parent relation, against a brute-force reading of the same relation."""

from hypothesis import given
from hypothesis import strategies as st

from catalog.backstage.cycles import parent_cycles

# Small key spaces make cycles (and chains running into them) common.
parents = st.dictionaries(st.integers(0, 7), st.one_of(st.none(), st.integers(0, 9)), max_size=8)


def _on_a_cycle(parent: dict, key) -> bool:
    node, seen = parent.get(key), set()
    while node is not None and node not in seen:
        if node == key:
            return True
        seen.add(node)
        node = parent.get(node)
    return False


@given(parents)
def test_every_cycle_is_reported_once_from_its_first_member(parent):
    starts = sorted(parent)
    found = parent_cycles(parent, starts)
    members = [key for _, path in found for key in path]
    assert len(members) == len(set(members)), "a cycle was reported twice"
    for start, path in found:
        assert path[0] == start
        assert all(parent[a] == b for a, b in zip(path, path[1:], strict=False))
        assert parent[path[-1]] == start  # it closes on itself
    cyclic = {key for key in starts if _on_a_cycle(parent, key)}
    assert set(members) == cyclic
    # Reported from the first start on each cycle, in the order of the starts.
    assert [start for start, _ in found] == [
        key for key in starts if key in cyclic and key == min(p for p in _cycle(parent, key))
    ]


def _cycle(parent: dict, key) -> list:
    path, node = [key], parent[key]
    while node != key:
        path.append(node)
        node = parent[node]
    return path


def test_a_chain_into_a_cycle_is_not_itself_a_cycle():
    parent = {"a": "b", "b": "c", "c": "b", "d": None}
    assert parent_cycles(parent, ["a", "b", "c", "d"]) == [("b", ["b", "c"])]
    assert parent_cycles({"x": "x"}, ["x"]) == [("x", ["x"])]
