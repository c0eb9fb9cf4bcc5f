"""bipacheck: audit photo collections for biometric-privacy (BIPA) compliance.

Python API (the CLI mirrors it: same names, same options, same config file, same exit codes):

- `bipacheck.audit(sources, ledger=..., ...)` returns the Report that `bipacheck audit` writes
  (`report.write(path, format)`, `report.exit_code`);
- `bipacheck.scan(paths, ...)` the ScanReport that `bipacheck scan` prints;
- `bipacheck.check(files, ...)` the Report the pre-commit hook judges;
- `bipacheck.scanning.cache.cache_info(path)` / `cache_prune(path, keep=1)` are `bipacheck cache info|prune`.

Keyword arguments are the commands' flags (`min_face=64`, `as_of="2026-11-01"`); bipacheck.options
lists them.
"""

from .api import audit, check, scan
from .version import __version__

__all__ = ["__version__", "audit", "check", "scan"]
