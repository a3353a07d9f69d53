from portal.models import WorkerHeartbeat
from portal.tasks import heartbeat


def test_heartbeat_records_and_counts(db):
    heartbeat.delay(hostname="worker-a")
    heartbeat.delay(hostname="worker-a")
    beat = WorkerHeartbeat.objects.get()
    assert beat.beats == 2
    assert beat.is_fresh
