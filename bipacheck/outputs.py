"""Writing what bipacheck produces: whole or not at all, with a stated mode, and (for copies written
below an output folder) never through a symbolic link and never outside that folder."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .errors import ConfigError

# Reports list photos, faces, ledger subject ids and (html) thumbnails of faces without a release:
# readable by their owner only unless the operator says otherwise (--output-mode).
REPORT_MODE = 0o600


def write_atomic(path: str, text: str, mode: int = REPORT_MODE) -> None:
    """Write the whole text or nothing: a crash never leaves half a file under the real name. The
    file gets exactly `mode` (the umask does not apply)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".bipacheck-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class UnsafeOutput(ConfigError):
    """A copy would be written through a symbolic link, or outside the output folder."""


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _component(name: str, where: str) -> str:
    if name in ("", ".", "..") or "/" in name or "\0" in name:
        raise UnsafeOutput(f"{where}: {name!r} is not a plain file or folder name; nothing written there")
    return name


def write_beneath(out_dir: str, parts: Sequence[str], data: bytes, *, mode: int | None = None,
                  times: tuple[int, int] | None = None) -> str:
    """Write `data` to out_dir/parts[0]/.../parts[-1], creating folders, atomically (open_beneath).
    Returns the path."""
    with open_beneath(out_dir, parts, mode=mode, times=times) as (fh, path):
        fh.write(data)
    return path


@contextmanager
def open_beneath(out_dir: str, parts: Sequence[str], *, mode: int | None = None,
                 times: tuple[int, int] | None = None) -> Iterator[tuple[object, str]]:
    """(binary file object, final path) to stream a file to out_dir/parts[0]/.../parts[-1]: written
    to a fresh temporary file beside it and renamed into place when the block ends normally; when it
    raises, the temporary file is removed and nothing appears under the final name.

    Every folder below out_dir is opened relative to its parent without following links
    (O_NOFOLLOW, an openat walk), so a link planted anywhere under out_dir (`out/photos ->
    ../photos`) stops the write instead of redirecting it; the temporary file is created with
    O_EXCL | O_NOFOLLOW and renamed into place, which replaces a link of the final name rather than
    writing through it. out_dir itself is the caller's choice (created if missing). mode / times
    (ns): the file's permission bits and (atime, mtime)."""
    names = [_component(p, out_dir) for p in parts]
    if not names:
        raise UnsafeOutput(f"{out_dir}: no file name to write")
    os.makedirs(out_dir, exist_ok=True)
    fds = [os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))]
    try:
        for name in names[:-1]:
            try:
                os.mkdir(name, 0o755, dir_fd=fds[-1])
            except FileExistsError:
                pass
            try:
                fds.append(os.open(name, _DIR_FLAGS, dir_fd=fds[-1]))
            except OSError as exc:
                raise UnsafeOutput(f"{os.path.join(out_dir, *names[:len(fds)])}: not a plain folder (a symbolic "
                                   f"link or a file: {exc.strerror}); refusing to write below it") from None
        final = names[-1]
        try:
            existing = os.stat(final, dir_fd=fds[-1], follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        if existing is not None and stat.S_ISDIR(existing.st_mode):
            raise UnsafeOutput(f"{os.path.join(out_dir, *names)} is a folder; not replaced")
        tmp = f".bipacheck-{os.getpid()}-{os.urandom(6).hex()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                     0o600, dir_fd=fds[-1])
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh, os.path.join(out_dir, *names)
                fh.flush()
                if mode is not None:
                    os.fchmod(fh.fileno(), stat.S_IMODE(mode))
                if times is not None:
                    os.utime(fh.fileno(), ns=times)
            os.replace(tmp, final, src_dir_fd=fds[-1], dst_dir_fd=fds[-1])
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=fds[-1])
            except FileNotFoundError:
                pass
            raise
    finally:
        for fd in reversed(fds):
            os.close(fd)
