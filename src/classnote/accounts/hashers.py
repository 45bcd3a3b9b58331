"""Argon2id with parameters chosen for a school at the bell.

Django's default Argon2 (t=2, m=100 MiB, p=8) costs ~155 ms of CPU per login on a
2-core box: 7 logins/s, so a 1,000-pupil school needs 2.5 minutes just to check
passwords. OWASP's minimum for Argon2id (m=19 MiB, t=2, p=1) costs ~31 ms: ~60/s,
a whole school in ~17 s. Hashes store their parameters, so raising these later
re-hashes each password at its next login.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class ClassnoteArgon2Hasher(Argon2PasswordHasher):
    algorithm = "argon2"  # same prefix as Django's: parameters are read from each hash
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
