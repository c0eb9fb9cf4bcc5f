"""The Python API that the command line mirrors (sqlite-utils style: same names, same options).

`audit()`, `scan()` and `check()` take the same keyword arguments as the flags of the commands of
the same names (bipacheck.options lists them), read the same config file, and return a result whose
`exit_code` is the one the command exits with. Each is a thin call into bipacheck.pipelines.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from . import options as opts_mod
from .errors import ConfigError
from .pipelines import audit as audit_pipeline, check as check_pipeline, scan as scan_pipeline


def sources_list(sources: str | os.PathLike | Iterable[str | os.PathLike], what: str = "sources") -> list[str]:
    """A str (or path) is ONE source, never a sequence of one-character sources."""
    if isinstance(sources, (str, os.PathLike)):
        return [os.fspath(sources)]
    if isinstance(sources, bytes):
        raise ConfigError(f"{what}: expected a path or a list of paths, got bytes")
    items = list(sources)
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise ConfigError(f"{what}: expected paths or URLs, got {item!r}")
    return [os.fspath(item) for item in items]


@opts_mod.documented("audit")
def audit(sources, *, config=True, **options):
    opts, _ = opts_mod.build("audit", options, config=config)
    report = audit_pipeline.run(sources_list(sources), opts)
    if opts.output:
        report.write(opts.output, opts.format_for("audit"), opts=opts)  # a format may have settings (html)
    return report


@opts_mod.documented("scan")
def scan(paths, *, config=True, **options):
    opts, _ = opts_mod.build("scan", options, config=config)
    result = scan_pipeline.run_scan(sources_list(paths, "paths"), opts)
    if opts.output:
        result.write(opts.output, opts.format_for("scan"), opts=opts)
    return result


@opts_mod.documented("check")
def check(files=(), *, config=True, **options):
    opts, _ = opts_mod.build("check", options, config=config)
    report = check_pipeline.run_check(sources_list(files, "files"), opts)
    if opts.output:
        report.write(opts.output, "json" if opts.format_for("check") == "text" else opts.format_for("check"),
                     opts=opts)
    return report
