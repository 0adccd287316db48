"""Password hashers: Argon2id sized for a 2-core API server, every hash on accounts.hashing's
low-priority threads (docs/performance.md)."""

from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher

from accounts import hashing


class HashedOffRequestThread:
    """Runs encode and verify on the hashing pool: the API login, password change, the admin's
    login, createsuperuser and Django's own timing equaliser all get the same bound."""

    def encode(self, password, salt, *args, **kwargs):
        return hashing.run(super().encode, password, salt, *args, **kwargs)

    def verify(self, password, encoded):
        return hashing.run(super().verify, password, encoded)


class ParsaLinkArgon2Hasher(HashedOffRequestThread, Argon2PasswordHasher):
    """Argon2id at OWASP's minimum (19 MiB, t=2, p=1).

    Django's defaults (100 MiB, t=2, p=8) cost ~170 ms of CPU per login: ten logins a second
    would saturate the machine. The algorithm name stays "argon2", so hashes made with Django's
    defaults still verify and are upgraded to these parameters on the next login.
    """

    time_cost = 2
    memory_cost = 19456
    parallelism = 1


class ParsaLinkPBKDF2Hasher(HashedOffRequestThread, PBKDF2PasswordHasher):
    """Older PBKDF2 hashes (a million SHA-256 rounds each) verify under the same bound until
    their next login upgrades them to Argon2id."""
