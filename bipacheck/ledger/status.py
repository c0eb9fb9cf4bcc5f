"""Consent status as of a date: the rules the audit relies on, in one place.

For one consent: out-of-scope if it covers another scope; not-yet-valid before granted_at;
otherwise ended by whichever came first of revocation and lapse (expires_at / term); else valid.
For a subject: valid if any consent is; otherwise the most informative in the order
revoked > expired > not-yet-valid > out-of-scope (newest grant breaks ties); `none` if the
subject has no consent at all.
"""

from __future__ import annotations

from datetime import datetime

from .dates import format_datetime
from .models import Consent, ConsentStatus

_RANK = {"revoked": 0, "expired": 1, "not-yet-valid": 2, "out-of-scope": 3}


def consent_state(consent: Consent, scope: str, as_of: datetime) -> str:
    if consent.scope != scope:
        return "out-of-scope"
    if as_of < consent.granted_at:
        return "not-yet-valid"
    revoked, ends = consent.revoked_at, consent.ends_at
    if revoked is not None and revoked <= as_of and (ends is None or revoked <= ends):
        return "revoked"
    if ends is not None and ends <= as_of:
        return "expired"
    return "valid"


def _reason(state: str, c: Consent, scope: str) -> str:
    fmt = format_datetime
    if state == "valid":
        until = f"until {fmt(c.ends_at)}" if c.ends_at else "with no end date"
        return f"consent {c.consent_id} ({c.method}) granted {fmt(c.granted_at)}, valid {until}"
    if state == "not-yet-valid":
        return f"consent {c.consent_id} only takes effect {fmt(c.granted_at)}"
    if state == "revoked":
        return f"consent {c.consent_id} was revoked {fmt(c.revoked_at)}"
    if state == "expired":
        return f"consent {c.consent_id} lapsed {fmt(c.ends_at)}"
    return f"consent {c.consent_id} covers {c.scope!r}, not {scope!r}"


def best_status(consents: list[Consent], scope: str, as_of: datetime) -> ConsentStatus:
    if not consents:
        return ConsentStatus("none", reason="no consent recorded for this subject")
    states = [(consent_state(c, scope, as_of), c) for c in consents]
    valid = [c for state, c in states if state == "valid"]
    if valid:
        # The release that lasts longest is the one to cite; open-ended beats any date.
        far = datetime.max.replace(tzinfo=as_of.tzinfo)
        chosen = max(valid, key=lambda c: (c.ends_at or far, c.granted_at))
        state = "valid"
    else:
        state, chosen = min(states, key=lambda sc: (_RANK[sc[0]], -sc[1].granted_at.timestamp()))
    return ConsentStatus(
        status=state,
        consent_id=chosen.consent_id,
        granted_at=chosen.granted_at,
        expires_at=chosen.ends_at,
        revoked_at=chosen.revoked_at,
        method=chosen.method,
        notice_version=chosen.notice_version,
        scope=chosen.scope,
        evidence_uri=chosen.evidence_uri,
        evidence_sha256=chosen.evidence_sha256,
        reason=_reason(state, chosen, scope),
    )
