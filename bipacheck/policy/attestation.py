"""The operator's attestation: facts no photo or ledger can show (`[tool.bipacheck.org]`).

Who runs the collection, whether a public BIPA policy exists and since when, whether data is
sold or shared and with whom, where it is processed. Each missing item is a `review` finding,
never silence; its SHA-256 goes into the report's `run` like the ledger's, so the report pins
the statement it relied on.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Mapping

from ..errors import ConfigError
from ..ledger import InvalidValue
from ..ledger.dates import format_datetime, parse_datetime
from ..ledger.fields import PURPOSES, canonical_json, region
from .bipa import EXEMPTIONS

RECIPIENT_KEYS = {"name", "role", "receives", "consideration", "scope"}
KEYS = {"entity", "attested_by", "attested_at", "policy_url", "policy_adopted_at",
        "retention_schedule", "sells_or_profits", "security_standard", "exemptions",
        "processing_regions", "processing_purposes", "recipients", "tag_software"}


@dataclass(frozen=True)
class Recipient:
    name: str
    scope: str  # the release scope a disclosure to it needs: disclose:<name> unless stated
    role: str | None = None
    receives: str | None = None
    consideration: bool | None = None  # paid or otherwise profited: 15(c)


@dataclass(frozen=True)
class Attestation:
    entity: str | None = None
    attested_by: str | None = None
    attested_at: datetime | None = None
    policy_url: str | None = None
    policy_adopted_at: datetime | None = None
    retention_schedule: str | None = None
    sells_or_profits: bool | None = None
    security_standard: str | None = None
    exemptions: tuple[str, ...] = ()
    processing_regions: tuple[str, ...] | None = None  # None: not attested
    processing_purposes: tuple[str, ...] | None = None  # what processing serves (ledger PURPOSES); None: not attested
    recipients: tuple[Recipient, ...] | None = None  # None: not attested; () none
    tag_software: tuple[str, ...] = ()  # face-tag writers that are the operator's own pipeline
    given: frozenset[str] = field(default_factory=frozenset)  # keys the operator stated
    source: str | None = None  # where the statement came from (a config file), not hashed

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k in self.given}
        for name in ("attested_at", "policy_adopted_at"):
            if name in out:
                out[name] = format_datetime(out[name])
        return out

    @property
    def sha256(self) -> str:
        return hashlib.sha256(canonical_json(self.as_dict()).encode()).hexdigest()

    def recipient(self, name: str) -> Recipient | None:
        return next((r for r in self.recipients or () if r.name == name), None)


def _text(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[tool.bipacheck.org] {key}: expected non-empty text, got {value!r}")
    return value.strip()


def _bool(value: Any, key: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(f"[tool.bipacheck.org] {key}: expected true or false, got {value!r}")


def _date(value: Any, key: str) -> datetime | None:
    try:
        return parse_datetime(value, f"[tool.bipacheck.org] {key}")
    except InvalidValue as exc:
        raise ConfigError(str(exc)) from None


def _list(value: Any, key: str) -> list:
    if not isinstance(value, list):
        raise ConfigError(f"[tool.bipacheck.org] {key}: expected a list, got {value!r}")
    return value


def _recipient(value: Any) -> Recipient:
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping) or not isinstance(value.get("name"), str):
        raise ConfigError(f"[tool.bipacheck.org] recipients: each needs a name, got {value!r}")
    unknown = set(value) - RECIPIENT_KEYS
    if unknown:
        raise ConfigError(f"[tool.bipacheck.org] recipients: unknown key(s) {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(sorted(RECIPIENT_KEYS))}")
    name = value["name"].strip()
    return Recipient(name=name, scope=_text(value.get("scope"), "recipients.scope") or f"disclose:{name}",
                     role=_text(value.get("role"), "recipients.role"),
                     receives=_text(value.get("receives"), "recipients.receives"),
                     consideration=_bool(value.get("consideration"), "recipients.consideration"))


def parse(values: Mapping[str, Any] | Attestation | None, source: str | None = None) -> Attestation | None:
    """An Attestation from a config table or API dict (None: no attestation at all)."""
    if values is None or isinstance(values, Attestation):
        return values
    if not isinstance(values, Mapping):
        raise ConfigError(f"[tool.bipacheck.org]: expected a table of keys, got {values!r}")
    data = {key.replace("-", "_"): value for key, value in values.items()}
    unknown = set(data) - KEYS
    if unknown:
        raise ConfigError(f"[tool.bipacheck.org]: unknown key(s) {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(sorted(KEYS))}")
    exemptions = tuple(_list(data.get("exemptions", []), "exemptions"))
    bad = [e for e in exemptions if e not in EXEMPTIONS]
    if bad:
        raise ConfigError(f"[tool.bipacheck.org] exemptions: {', '.join(map(str, bad))} not one of "
                          f"{', '.join(EXEMPTIONS)}")
    regions = None
    if data.get("processing_regions") is not None:
        try:
            regions = tuple(region(r, "[tool.bipacheck.org] processing_regions")
                            for r in _list(data["processing_regions"], "processing_regions"))
        except InvalidValue as exc:
            raise ConfigError(str(exc)) from None
    purposes = None
    if data.get("processing_purposes") is not None:
        purposes = tuple(str(p).strip().lower() for p in _list(data["processing_purposes"], "processing_purposes"))
        unknown = [p for p in purposes if p not in PURPOSES]
        if unknown:
            raise ConfigError(f"[tool.bipacheck.org] processing_purposes: {', '.join(unknown)} not one of "
                              f"{', '.join(PURPOSES)}")
    recipients = None
    if data.get("recipients") is not None:
        recipients = tuple(_recipient(r) for r in _list(data["recipients"], "recipients"))
    return Attestation(
        entity=_text(data.get("entity"), "entity"),
        attested_by=_text(data.get("attested_by"), "attested_by"),
        attested_at=_date(data.get("attested_at"), "attested_at"),
        policy_url=_text(data.get("policy_url"), "policy_url"),
        policy_adopted_at=_date(data.get("policy_adopted_at"), "policy_adopted_at"),
        retention_schedule=_text(data.get("retention_schedule"), "retention_schedule"),
        sells_or_profits=_bool(data.get("sells_or_profits"), "sells_or_profits"),
        security_standard=_text(data.get("security_standard"), "security_standard"),
        exemptions=exemptions,
        processing_regions=regions,
        processing_purposes=purposes,
        recipients=recipients,
        tag_software=tuple(str(t).strip().lower()
                           for t in _list(data.get("tag_software", []), "tag_software")),
        given=frozenset(k for k, v in data.items() if v is not None),
        source=source,
    )


def run_facts(attestation: Attestation | None) -> dict[str, Any]:
    """What the report's `run.attestation` records: the statement itself and its hash."""
    if attestation is None:
        return {"source": None, "sha256": None}
    return {"source": attestation.source, "sha256": attestation.sha256, "statement": attestation.as_dict()}
