"""Processes start cleanly on a fresh checkout: every folder they need is created as they start."""

import os
import subprocess
import sys
import time

from django.conf import settings

# A Redis URL makes the settings skip the embedded broker's folders (the old crash); nothing
# listens on port 1, so this beat cannot send into anyone's queue while the test watches it.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_beat_starts_with_redis_and_no_celery_folder(tmp_path):
    data_dir = tmp_path / "fresh-checkout" / ".celery"
    env = {**os.environ, "REDIS_URL": UNREACHABLE_REDIS, "CELERY_DATA_DIR": str(data_dir)}
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "beat", "-l", "INFO"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and beat.poll() is None:
            if list(data_dir.glob("beat-schedule*")):
                break
            time.sleep(0.2)
        time.sleep(1)  # the schedule is open: a crash on it would come now
        alive = beat.poll() is None
    finally:
        beat.terminate()
        output = beat.communicate(timeout=30)[0].decode(errors="replace")
    assert alive, f"beat exited:\n{output[-3000:]}"
    assert list(data_dir.glob("beat-schedule*")), output[-3000:]
    assert "beat: Starting..." in output
