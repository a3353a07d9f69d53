"""Gunicorn's settings for every Switchyard web process.

Gunicorn reads `gunicorn.conf.py` from its working directory, so the image, the Kubernetes
manifests, the production-shape test, the scale-out test and the benches all get these; their
command lines choose bind, workers and threads.
"""

# Gunicorn 27 opens a control socket for `gunicornc` at ~/.gunicorn/gunicorn.ctl by default. Two
# web processes on one host race for that one path, and the loser logs "Control server error".
# Switchyard does not use gunicornc.
control_socket_disable = True
