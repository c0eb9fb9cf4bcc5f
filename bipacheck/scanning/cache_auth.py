"""Authenticating scan cache rows, with a key kept outside the cache file.

A cached row decides a verdict without a scan (an edited row with its faces removed would pass a
photo nobody looked at), so each row carries an HMAC-SHA256 of everything it says, keyed by a
secret the cache file does not hold: BIPACHECK_CACHE_KEY if set (e.g. a CI secret, so a cache
restored on another machine stays usable), else a key file (BIPACHECK_CACHE_KEY_FILE, default
`cache.key` in the user's data folder), created with mode 0600 on first use. A row that does not
authenticate (edited, or written under another key) is never used: the object is scanned again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets

import platformdirs

from ..errors import ConfigError

KEY_ENV = "BIPACHECK_CACHE_KEY"
KEY_FILE_ENV = "BIPACHECK_CACHE_KEY_FILE"


def key_file() -> str:
    return os.environ.get(KEY_FILE_ENV) or os.path.join(platformdirs.user_data_dir("bipacheck"), "cache.key")


def cache_key() -> bytes:
    """The secret rows are authenticated with (made on first use, never stored in a cache)."""
    given = os.environ.get(KEY_ENV)
    if given:
        return hashlib.sha256(given.encode("utf-8")).digest()
    path = key_file()
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    try:
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # whole or not at all; a concurrent first use keeps whichever came first
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        return _read_key(path)
    except OSError as exc:
        raise ConfigError(f"scan cache key {path}: {exc.strerror or exc}; set {KEY_FILE_ENV} to a writable "
                          f"file, {KEY_ENV} to a secret, or run with --no-cache") from None


def _read_key(path: str) -> bytes:
    with open(path, encoding="ascii") as fh:
        text = fh.read().strip()
    if len(text) < 32:
        raise ConfigError(f"scan cache key {path} is too short to be a key: delete it to make a new one")
    return hashlib.sha256(text.encode("ascii")).digest()


def row_mac(key: bytes, url: str, fingerprint: str, change_key: str, stamp: str | None, sha256: str, kind: str,
            result: str) -> str:
    """HMAC-SHA256 of one row's every field (a canonical JSON array: no field can bleed into another)."""
    body = json.dumps([url, fingerprint, change_key, stamp, sha256, kind, result], ensure_ascii=False)
    return hmac.new(key, body.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def authentic(key: bytes, mac: str | None, *fields) -> bool:
    return mac is not None and hmac.compare_digest(mac, row_mac(key, *fields))
