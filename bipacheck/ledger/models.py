"""The records the ledger hands out: plain dataclasses with datetimes, no SQLite in sight."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from .dates import format_datetime, from_stored, parse_duration


@dataclass
class Subject:
    subject_id: str
    display_name: str | None = None
    jurisdictions: list[str] = field(default_factory=list)
    last_interaction_at: datetime | None = None
    purpose_satisfied_at: datetime | None = None
    birth_date: datetime | None = None
    deceased_at: datetime | None = None
    employment_cba: str | None = None  # "true", "false", an agreement id, or None (unknown)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Subject":
        return cls(
            subject_id=row["subject_id"],
            display_name=row["display_name"],
            jurisdictions=json.loads(row["jurisdictions"] or "[]"),
            last_interaction_at=from_stored(row["last_interaction_at"]),
            purpose_satisfied_at=from_stored(row["purpose_satisfied_at"]),
            birth_date=from_stored(row.get("birth_date")),
            deceased_at=from_stored(row.get("deceased_at")),
            employment_cba=row.get("employment_cba"),
        )

    @property
    def residence(self) -> list[str]:
        """ISO 3166-2 codes of where the person lives (stored as `jurisdictions`)."""
        return self.jurisdictions

    @property
    def under_cba(self) -> bool:
        return self.employment_cba not in (None, "false")

    def age_on(self, when: datetime) -> int | None:
        if self.birth_date is None:
            return None
        born = self.birth_date
        return when.year - born.year - ((when.month, when.day) < (born.month, born.day))


@dataclass
class Consent:
    """One written release. `term` is an ISO 8601 duration counted from `granted_at`."""

    consent_id: str
    subject_id: str
    scope: str
    granted_at: datetime
    method: str
    purpose: str | None = None
    expires_at: datetime | None = None
    term: str | None = None
    revoked_at: datetime | None = None
    notice_version: str | None = None
    evidence_uri: str | None = None
    evidence_sha256: str | None = None
    signer_role: str | None = None  # None: not recorded
    notice_elements: list[str] | None = None  # None: not recorded
    purposes: list[str] | None = None  # what the release allows (fields.PURPOSES); None: not recorded
    explicit: bool | None = None  # an explicit consent (GDPR Art. 9(2)(a)); None: not recorded

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Consent":
        values = dict(row)
        for name in ("granted_at", "expires_at", "revoked_at"):
            values[name] = from_stored(values[name])
        for name in ("notice_elements", "purposes"):
            if values.get(name) is not None:
                values[name] = json.loads(values[name])
        if values.get("explicit") is not None:
            values["explicit"] = values["explicit"] == "true"
        return cls(**values)

    @property
    def ends_at(self) -> datetime | None:
        """When the release lapses on its own: the earlier of expires_at and granted_at + term."""
        ends = [self.expires_at] if self.expires_at else []
        if self.term:
            ends.append(parse_duration(self.term).after(self.granted_at))
        return min(ends) if ends else None


@dataclass
class PhotoLink:
    """A subject seen in a photo; `box` is [x, y, w, h] in upright pixels, or None if unknown."""

    subject_id: str
    box: list[int] | None
    role: str
    photo_sha256: str | None = None
    photo_path: str | None = None
    link_id: str | None = None
    time_s: float | None = None  # a video's: when the box is on screen, seconds from its start

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "PhotoLink":
        return cls(
            subject_id=row["subject_id"],
            box=json.loads(row["box"]) if row["box"] else None,
            role=row["role"],
            photo_sha256=row["photo_sha256"],
            photo_path=row["photo_path"],
            link_id=row["link_id"],
            time_s=float(row["time_s"]) if row.get("time_s") else None,
        )


@dataclass
class ProcessingEvent:
    """One time a photo was processed: when, where captured and processed, how, sent to whom."""

    event_id: str
    processed_at: datetime
    photo_sha256: str | None = None
    photo_path: str | None = None
    capture_region: str | None = None
    processing_region: str | None = None
    method: str | None = None  # how identifiers were collected (fields.PROCESSING_METHODS)
    recipients: list[str] = field(default_factory=list)
    purpose: str | None = None  # what the processing served (fields.PURPOSES); None: not recorded

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "ProcessingEvent":
        values = dict(row)
        values["processed_at"] = from_stored(values["processed_at"])
        values["recipients"] = json.loads(values["recipients"] or "[]")
        return cls(**values)


STATUSES = ("valid", "not-yet-valid", "expired", "revoked", "out-of-scope", "none")


@dataclass
class ConsentStatus:
    """The answer for one subject, scope and date. `expires_at` is the effective end
    (explicit expiry or granted_at + term, whichever is earlier)."""

    status: str
    consent_id: str | None = None
    granted_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    method: str | None = None
    notice_version: str | None = None
    scope: str | None = None
    evidence_uri: str | None = None
    evidence_sha256: str | None = None
    reason: str = ""

    @property
    def valid(self) -> bool:
        return self.status == "valid"

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for name in ("granted_at", "expires_at", "revoked_at"):
            out[name] = format_datetime(out[name])
        return out


@dataclass
class VerifyResult:
    ok: bool
    first_broken_event: int | None
    reason: str
    events: int = 0
    head_hash: str | None = None
    problems: list[str] = field(default_factory=list)  # every finding, first one first
    head_held: bool | None = None  # verify(expect=...): whether the quoted head is still there (None: not checked)


@dataclass
class Event:
    seq: int
    at: str
    actor: str
    action: str
    kind: str
    key: str
    before: dict | None
    after: dict | None
    note: dict | None
    prev_hash: str
    hash: str

    def changes(self) -> dict[str, list[Any]]:
        """Field -> [old, new] for every column this event changed."""
        before, after = self.before or {}, self.after or {}
        names = list(dict.fromkeys([*before, *after]))
        return {n: [before.get(n), after.get(n)] for n in names if before.get(n) != after.get(n)}


@dataclass
class ImportResult:
    kind: str
    source: str
    added: int = 0
    edited: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)  # e.g. an old column name, still read

    @property
    def changed(self) -> int:
        return self.added + self.edited
