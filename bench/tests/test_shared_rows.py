"""The shared-catalog bench's verdicts: ratios against the peer, limits, and the import limits
that scale with N ("≤ 5 s at 10,000 and no worse than linear to 20,000")."""

from bench.shared import Row, import_rows


def test_a_ratio_target_needs_the_peer_and_a_limit_does_not():
    row = Row("list", "ms", ours=[30, 26, 27], ratio_at_least=3)
    assert row.verdict() == "peer not measured"
    row.peer = [231, 225, 237]
    assert round(row.ratio, 2) == 8.56 and row.verdict() == "met"
    row.peer = [70, 70, 70]
    assert row.verdict() == "NOT met"  # 2.6×: under 3×
    assert Row("page", "ms", ours=[41, 39, 42], limit=40).verdict() == "NOT met"  # median 41


def test_the_import_limits_are_the_issues_at_10000_and_scale_linearly_with_n():
    first, again = import_rows()
    assert (first.limit, first.ratio_at_least, again.limit) == (5, 25, 1)
    assert first.target == "≥ 25× and ≤ 5 s"
    first, again = import_rows(20_000)
    assert (first.limit, again.limit) == (10, 2)
    assert "≤ 10 s (linear" in first.target
    first.ours, first.peer = [6.26, 6.33, 6.20], [197.67, 201.50, 182.65]
    assert first.verdict() == "met"  # what the bench printed as NOT met against 5 s
    first.ours = [10.5, 10.4, 10.6]
    assert first.verdict() == "NOT met"  # worse than linear, though still 19× the peer
