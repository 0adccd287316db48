"""Argon2id with parameters sized for a 2-core API server (measured in README "Performance")."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class ParsaLinkArgon2Hasher(Argon2PasswordHasher):
    """Argon2id at OWASP's minimum (19 MiB, t=2, p=1).

    Django's defaults (100 MiB, t=2, p=8) cost ~170 ms of CPU per login: ten logins a second
    would saturate the machine. The algorithm name stays "argon2", so hashes made with Django's
    defaults still verify and are upgraded to these parameters on the next login.
    """

    time_cost = 2
    memory_cost = 19456
    parallelism = 1
