"""bipacheck: audit photo collections for biometric-privacy (BIPA) compliance.

Python API (the CLI mirrors it): `bipacheck.audit(...)` returns the Report that
`bipacheck audit --format json` writes; `bipacheck.scan(...)` the `scan --format json` document;
`bipacheck.cache.cache_info(path)` / `cache_prune(path, keep=1)` are `bipacheck cache info|prune`.
"""

__version__ = "0.1.0"


def audit(*args, **kwargs):
    from .auditing import audit as _audit

    return _audit(*args, **kwargs)


def scan(*args, **kwargs):
    from .api import scan as _scan

    return _scan(*args, **kwargs)


audit.__doc__ = "Audit sources against the consent ledger; see bipacheck.auditing.audit."
scan.__doc__ = "Find faces in paths; see bipacheck.api.scan."
