"""Beat played by a test: a background thread running the given ticks every half second."""

import threading
from contextlib import contextmanager

from django.db import connections


@contextmanager
def beat_running(*ticks, every: float = 0.5):
    stop = threading.Event()

    def run():
        while not stop.wait(every):
            for tick in ticks:
                tick()
        connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
