"""Gunicorn's settings for Switchyard's web process.

Gunicorn reads `gunicorn.conf.py` from its working directory, so the image, the Kubernetes
manifests, the production-shape test and the benches all start the web the same way; flags on
the command line still win.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = 4
timeout = 30

# Gunicorn 27 opens a control socket for `gunicornc` at ~/.gunicorn/gunicorn.ctl by default. Two
# web processes on one host race for that one path, and the loser logs "Control server error".
# Switchyard does not use gunicornc.
control_socket_disable = True
