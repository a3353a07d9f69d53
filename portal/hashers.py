"""Password hashing: Argon2id with OWASP's recommended parameters.

Django's default, PBKDF2-SHA256 with 1,000,000 iterations, costs about half a second of CPU per
login on a small machine, which made signing in the slowest thing in Switchyard. OWASP's password
storage cheat sheet recommends Argon2id first, with at least 19 MiB of memory, 2 iterations and
1 degree of parallelism: memory-hard (so harder to attack on GPUs than PBKDF2) and a few tens of
milliseconds to check. Existing PBKDF2 hashes keep working and are rehashed at the next login.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """argon2id, m=19 MiB, t=2, p=1 (OWASP's first recommended configuration)."""

    memory_cost = 19 * 1024  # KiB
    time_cost = 2
    parallelism = 1
