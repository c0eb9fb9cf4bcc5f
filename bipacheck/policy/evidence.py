"""The signed documents behind the releases, opened (`--evidence ROOT`: a folder or a bucket URL).

A release in the ledger names its signed document (`evidence_uri`) and that document's SHA-256
(`evidence_sha256`). An audit with an evidence root opens each document a verdict rests on and
checks the hash: a document that is missing, does not match, or whose recorded hash is a
placeholder (`aaaa...`, `abab...`, the hash of nothing) does not prove the release. The text of
each release's notice (`notice_version`) is looked up beside them and its SHA-256 recorded, so the
report pins what the person was told.

Where a document is looked for under ROOT: an `evidence_uri` already under ROOT is read as it is; a
relative one is ROOT/<uri>; any other URL or absolute path is ROOT/<host>/<path> (the layout a
mirror such as `wget --mirror` or `aws s3 sync s3://bucket ROOT/bucket` leaves). A notice's text is
ROOT/notices/<notice_version>, with or without .txt, .md, .html or .pdf.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import BipacheckError, ConfigError
from ..sources import SCHEMES, read_url
from ..sources.remote import BUCKET_PROTOCOLS, open_filesystem, storage_options

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
NOTICE_SUFFIXES = ("", ".txt", ".md", ".html", ".pdf")
# Statuses where the record itself shows the release is not proven (a writing the law requires is
# then missing); `unreadable` means the document could not be checked (review).
NOT_PROVEN = ("missing", "mismatch", "placeholder", "not-recorded", "outside-root")


def placeholder(digest: str) -> bool:
    """A SHA-256 nobody computed from a document: one or two repeated hex digits, or the hash of
    zero bytes. A real digest has about 16 distinct digits; two or fewer happens by chance with
    probability below 1e-60."""
    return len(set(digest)) <= 2 or digest == EMPTY_SHA256


@dataclass(frozen=True)
class Check:
    """One release's evidence, as the audit found it."""

    status: str  # verified, or one of NOT_PROVEN, or unreadable
    location: str | None = None  # where the document was looked for
    found_sha256: str | None = None  # the SHA-256 of the document read there
    message: str = ""
    notice: dict | None = None  # {"version", "status", "location", "sha256"} of its notice text

    @property
    def problem(self) -> str | None:
        """What the document does not prove, or None when it and its notice text were found."""
        if self.status != "verified":
            return self.message
        if self.notice is not None and self.notice["status"] != "verified":
            return self.notice["message"]
        return None

    @property
    def certain(self) -> bool:
        """The record itself shows the release is not proven (not just that nothing could be read)."""
        return self.status in NOT_PROVEN

    def as_dict(self) -> dict:
        out = {"status": self.status, "location": self.location, "found_sha256": self.found_sha256,
               "message": self.message}
        if self.notice is not None:
            out["notice"] = {k: v for k, v in self.notice.items() if k != "message"}
        return out


class EvidenceRoot:
    """Reads release documents and notice texts under one root, each once per audit."""

    def __init__(self, root: str, endpoint_url: str | None = None,
                 read: Callable[[str, str | None], bytes] = read_url):
        scheme = root.partition("://")[0].lower() if "://" in root else ""
        if scheme not in SCHEMES:
            raise ConfigError(f"--evidence {root}: use a folder or {', '.join(f'{s}://' for s in SCHEMES if s)}")
        if scheme in BUCKET_PROTOCOLS:
            open_filesystem(scheme, storage_options(endpoint_url))  # a missing extra fails now, not mid-audit
        elif not Path(root.split("://", 1)[-1] if scheme == "file" else root).is_dir():
            raise ConfigError(f"--evidence {root}: not a folder")
        self.root = root.rstrip("/")
        self.endpoint_url = endpoint_url
        self._read = read
        self._releases: dict[str, Check] = {}
        self._notices: dict[str, dict] = {}

    def locate(self, uri: str) -> str | None:
        """Where under the root the document `uri` names is kept; None if it would lie outside."""
        if uri.startswith(self.root + "/"):
            relative = uri[len(self.root) + 1:]
        else:
            parts = urlsplit(uri)
            if parts.scheme and len(parts.scheme) > 1:  # a URL (a one-letter scheme is a drive)
                relative = f"{parts.netloc}/{unquote(parts.path)}"
            else:
                relative = uri
        clean = posixpath.normpath("/" + relative.replace("\\", "/")).lstrip("/")
        if not clean or clean == "." or ".." in relative.replace("\\", "/").split("/"):
            return None
        return f"{self.root}/{clean}"

    def _bytes(self, location: str) -> tuple[bytes | None, str | None]:
        """(content, None), or (None, 'missing' / a reason it could not be read)."""
        try:
            return self._read(location, self.endpoint_url), None
        except FileNotFoundError:
            return None, "missing"
        except BipacheckError:
            raise  # a configuration problem (a missing extra) is the audit's error, not this document's
        except Exception as exc:  # noqa: BLE001: any storage or file error makes this one document unreadable
            return None, f"{type(exc).__name__}: {exc}"

    def check(self, consent) -> Check:
        """The evidence of one release (a ledger Consent), read once."""
        if consent.consent_id not in self._releases:
            self._releases[consent.consent_id] = self._check(consent)
        return self._releases[consent.consent_id]

    def _check(self, consent) -> Check:
        notice = self.notice(consent.notice_version) if consent.notice_version else None
        uri, digest = consent.evidence_uri, consent.evidence_sha256
        if not uri or not digest:
            return Check("not-recorded", message=f"release {consent.consent_id} names no signed document "
                         "(evidence_uri and evidence_sha256)", notice=notice)
        location = self.locate(uri)
        if location is None:
            return Check("outside-root", message=f"release {consent.consent_id}: {uri} would lie outside the "
                         "evidence root", notice=notice)
        if placeholder(digest):
            return Check("placeholder", location, message=f"release {consent.consent_id}: the recorded SHA-256 "
                         f"{digest[:12]}... is a placeholder, not the hash of a document", notice=notice)
        data, failed = self._bytes(location)
        if failed == "missing":
            return Check("missing", location, message=f"release {consent.consent_id}: no signed document at "
                         f"{location}", notice=notice)
        if data is None:
            return Check("unreadable", location, message=f"release {consent.consent_id}: {location} could not "
                         f"be read ({failed})", notice=notice)
        found = hashlib.sha256(data).hexdigest()
        if found != digest:
            return Check("mismatch", location, found, f"release {consent.consent_id}: the document at {location} "
                         f"has SHA-256 {found[:12]}..., not the recorded {digest[:12]}...", notice)
        return Check("verified", location, found, f"release {consent.consent_id}: signed document verified",
                     notice)

    def notice(self, version: str) -> dict:
        """The text of one notice version: where it is and its SHA-256, read once."""
        if version not in self._notices:
            self._notices[version] = self._notice(version)
        return self._notices[version]

    def _notice(self, version: str) -> dict:
        out = {"version": version, "status": "missing", "location": None, "sha256": None}
        if "/" in version or "\\" in version or version in (".", ".."):
            return {**out, "message": f"notice version {version!r} is not a file name"}
        for suffix in NOTICE_SUFFIXES:
            location = f"{self.root}/notices/{version}{suffix}"
            data, failed = self._bytes(location)
            if data is not None:
                return {**out, "status": "verified", "location": location, "sha256": hashlib.sha256(data).hexdigest(),
                        "message": ""}
            if failed != "missing":
                return {**out, "status": "unreadable", "location": location,
                        "message": f"the text of notice {version} could not be read ({failed})"}
        return {**out, "message": f"the text of notice {version} is not under {self.root}/notices/"}

    def facts(self) -> dict:
        """What the report's run.evidence records: the root, each release's result by status, and
        every notice text with its SHA-256."""
        return {"root": self.root, "checked": True,
                "releases": dict(sorted(Counter(c.status for c in self._releases.values()).items())),
                "notices": {v: {k: n[k] for k in ("status", "location", "sha256")}
                            for v, n in sorted(self._notices.items())}}


NOT_CHECKED = {"root": None, "checked": False,
               "note": "release documents were not opened (no --evidence ROOT): their SHA-256 values are as "
                       "the ledger records them"}
