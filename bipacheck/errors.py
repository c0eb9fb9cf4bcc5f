"""Typed errors. Every skipped input carries one of these reasons, never a bare traceback."""

from __future__ import annotations


class BipacheckError(Exception):
    """Base class for errors that the CLI reports as a clean message."""


class ConfigError(BipacheckError):
    """Bad settings, unknown detector, missing weights: nothing can be audited (exit 2)."""


class NothingListed(ConfigError):
    """A source listed nothing to audit (missing, empty, unreachable, or only sidecar files): an
    audit of nothing is an error naming what was not found, never a pass."""

    def __init__(self, verb: str, sources, why: str | None = None):
        why = why or ("listed no files (an empty folder or prefix, or --include/--exclude/--manifest matched "
                      "nothing)")
        super().__init__(f"nothing to {verb}: {', '.join(map(str, sources))} {why}")


class ImageError(BipacheckError):
    """An input that could not be turned into pixels. `reason` is a stable machine code."""

    reason = "unreadable"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class EmptyFile(ImageError):
    reason = "empty-file"


class UnsupportedFormat(ImageError):
    reason = "unsupported-format"


class TruncatedImage(ImageError):
    reason = "truncated"


class CorruptImage(ImageError):
    reason = "corrupt"


class TooLarge(ImageError):
    reason = "too-large"


class UnreadableFile(ImageError):
    reason = "unreadable"


class OutsideRoot(UnreadableFile):
    """A symbolic link that leads outside the audited folder (followed only with --follow-symlinks)."""

    reason = "outside-root"
