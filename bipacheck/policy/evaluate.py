"""One scanned photo + the ledger -> findings, face by face.

Every face counts: a face with no matched subject holding a valid release for the profile's scope
is unconsented, bystanders and non-users included (the 2023 X Corp complaint's allegation).
Releases are judged at each time the photo was processed (policy.timeline), where it was
processed decides whether the law reaches it, and each finding records which processing times
count towards the exposure estimate and why the others do not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..detect.base import iou
from ..findings import TOOL_RULES, FaceRecord, Finding
from ..ledger.dates import format_datetime
from ..scanning.scan import PhotoScan
from .attestation import Attestation
from .bipa import BIPA, CONSENT_RULES, EXEMPTIONS, RULES as BIPA_RULES, Law
from .pack_eval import evaluate_packs
from .profiles import Profile
from .release import Judgement, Needs, judge
from .scope import PackScope
from .timeline import IN, NOT_IN_FORCE, OUT, UNKNOWN, Processing, processing_times, territory

RULES = {**BIPA_RULES, **TOOL_RULES}

LINK_MATCH_IOU = 0.3  # ledger boxes come from other tools: same face, looser box


@dataclass(frozen=True)
class PolicyContext:
    """What every photo of one audit is judged with, decided once before the first photo is read."""

    profile: Profile
    as_of: datetime
    threshold: float  # faces scoring below it are low-confidence (review), not faces
    ledger: Any = None  # a read-only bipacheck.ledger.Ledger, or None: no releases, links or events
    attestation: Attestation | None = None  # the operator's statement ([tool.bipacheck.org])
    tag_map: Mapping[str, str] | None = None  # names in face tags -> ledger subject ids (explicit only)
    show_names: bool = False
    scope: PackScope | None = None  # the other jurisdiction packs to apply to the same faces
    law: Law = BIPA
    evidence: Any = None  # a policy.evidence.EvidenceRoot (--evidence): release documents opened; None: not


def consent_facts(consent, evidence=None) -> dict | None:
    """What proves (or disproves) a face's release: the cited consent's dates, method, purposes and
    evidence (with what opening its document found, when --evidence is given). `consent` is a
    ledger Consent (ends_at: when it lapses, explicit expiry or term); None if none."""
    if consent is None:
        return None
    return {"granted_at": format_datetime(consent.granted_at), "expires_at": format_datetime(consent.ends_at),
            "revoked_at": format_datetime(consent.revoked_at),
            **{k: getattr(consent, k, None) for k in ("method", "scope", "notice_version", "evidence_uri",
                                                       "evidence_sha256", "purposes", "explicit")},
            "evidence": evidence.check(consent).as_dict() if evidence is not None else None}


@dataclass
class PhotoOutcome:
    findings: list[Finding] = field(default_factory=list)
    faces: list[FaceRecord] = field(default_factory=list)
    # keys of unconsented persons: a subject id, or a per-face key when the ledger cannot say who
    unconsented_persons: list[str] = field(default_factory=list)
    times: list[Processing] = field(default_factory=list)
    pack_reach: dict[str, set[str]] = field(default_factory=dict)  # pack id -> reaches of its faces
    # person -> (linked, its processing times before the attested policy_adopted_at, as BIPA counts
    # them): every face's, consented ones too (a policy adopted late aggrieves them all, 15(a))
    processed: dict[str, tuple[bool, list[dict]]] = field(default_factory=dict)


def _link_overlap(link, rec: FaceRecord, tracks: Mapping[int, Any]) -> float:
    """How well a boxed link fits a face: IoU with its box; a link with a time (a video's) fits a
    track by the track's box at that time (anywhere it may be on screen), else not at all."""
    time_s, track = getattr(link, "time_s", None), tracks.get(id(rec))
    if time_s is None or track is None:
        return iou(link.box, rec.box)
    there = track.box_at(time_s, envelope=True)
    return 0.0 if there is None else iou(link.box, list(there))


def _assign_links(records: list[FaceRecord], low: list[FaceRecord], links,
                  tracks: Mapping[int, Any] | None = None) -> list[FaceRecord]:
    """Attach ledger subjects to faces. Boxed links match by IoU (a boxed link may confirm a
    low-confidence face, or add a face the detector missed; with a time, a video's track by its box
    then); boxless links cover the remaining faces by count, largest first (the uploader and tagged
    people are usually the big faces). tracks: id(record) -> its FaceTrack, for a video's faces."""
    tracks = tracks or {}
    boxed = [link for link in links if link.box]
    pairs = sorted(
        ((_link_overlap(link, rec, tracks), i, j) for i, link in enumerate(boxed)
         for j, rec in enumerate(records + low)),
        reverse=True,
    )
    used_links, used_faces = set(), set()
    candidates = records + low
    for score, i, j in pairs:
        if score < LINK_MATCH_IOU:
            break
        if i in used_links or j in used_faces:
            continue
        used_links.add(i)
        used_faces.add(j)
        candidates[j].subject_id = boxed[i].subject_id
    promoted = [rec for k, rec in enumerate(low) if len(records) + k in used_faces]
    for i, link in enumerate(boxed):
        if i not in used_links:
            records.append(FaceRecord(list(link.box), None, "ledger", link.subject_id))
    records.extend(promoted)
    free = sorted((r for r in records if r.subject_id is None), key=lambda r: -(r.box[2] * r.box[3]))
    for link, rec in zip((link for link in links if not link.box), free):
        rec.subject_id = link.subject_id
    return records


def _merge_duplicate_tags(tags) -> list:
    """One person tagged by a program that writes several schemas at once (digiKam writes MWG and
    Microsoft regions) is one tag: same name, same place. The merged tag lists every schema."""
    merged: list = []
    for region in tags:
        for i, other in enumerate(merged):
            same_place = (region.box is None and other.box is None) or (
                region.box is not None and other.box is not None and iou(region.box, other.box) >= 0.5)
            if same_place and region.name == other.name and region.named == other.named:
                tools = sorted(set(other.tool.split("+")) | {region.tool})
                merged[i] = dataclasses.replace(other, tool="+".join(tools))
                break
        else:
            merged.append(region)
    return merged


def _add_tag_faces(records: list[FaceRecord], tags, tag_map: dict[str, str]) -> list[tuple]:
    """Face tags other software wrote count as faces where the detector missed them; a named tag
    mapped to a ledger subject (only through the operator's explicit map) identifies its face.
    Returns (region, record or None, subject id or None) per tag region."""
    rows = []
    for region in _merge_duplicate_tags(tags):
        subject = tag_map.get(region.name) if region.named and region.name else None
        record = None
        if region.box:
            best = max(records, key=lambda r: iou(r.box, region.box), default=None)
            if best is not None and iou(best.box, region.box) >= LINK_MATCH_IOU:
                record = best
            else:
                record = FaceRecord(list(region.box), None, "metadata")
                records.append(record)
            if subject and record.subject_id is None:
                record.subject_id = subject
        rows.append((region, record, subject))
    return rows


def _tag_finding_details(rows, show_names: bool, lookup, profile: Profile, as_of: datetime) -> tuple[int, dict]:
    regions, unconsented_named = [], 0
    for region, record, subject in rows:
        status = record.consent_status if record is not None and record.subject_id == subject else None
        if subject and status is None and lookup is not None:
            status = lookup.consent_status(subject, profile.scope, as_of).status
        entry = {"box": region.box, "named": region.named, "tool": region.tool, "where": region.where,
                 "subject": subject if subject else ("named, not in ledger" if region.named else None),
                 "consent_status": status if subject else None}
        if show_names and region.name:
            entry["name"] = region.name
        if region.named and status != "valid":
            unconsented_named += 1
        regions.append(entry)
    return unconsented_named, {"regions": regions, "named_without_valid_release": unconsented_named}


_SEVERITY_OF = {IN: "violation", UNKNOWN: "review", OUT: "info", NOT_IN_FORCE: "info"}
_WHY_NOT_COUNTED = {UNKNOWN: "territory unknown", OUT: "outside the law's territory"}


@dataclass
class _Photo:
    """What every face of one photo shares: the law, the attestation and the processing times."""

    profile: Profile
    law: Law
    attestation: Attestation | None
    times: list[Processing]
    places: list[tuple[str, str]]  # territory(p) for each time

    @property
    def exemptions(self) -> list[str]:
        return [EXEMPTIONS[e] for e in (self.attestation.exemptions if self.attestation else ())]

    def reach(self, indices) -> str:
        found = {self.places[i][0] for i in indices}
        return IN if IN in found else UNKNOWN if UNKNOWN in found else OUT

    def severity(self, reach: str) -> str:
        if not self.profile.derives_identifiers or self.exemptions:
            return "info"
        return _SEVERITY_OF[reach]

    def entry(self, i: int, cba: str | None = None, **extra) -> dict:
        """One processing time as a finding lists it, with whether it counts towards exposure."""
        where, why = self.places[i]
        out = {**self.times[i].as_dict(), "territory": where, "where": why, **extra}
        reason = (_WHY_NOT_COUNTED.get(where) or (f"law not in force: {why}" if where == NOT_IN_FORCE else None) or
                  ("exempt: " + "; ".join(self.exemptions) if self.exemptions else None) or
                  (f"preempted: covered by collective bargaining agreement {cba!r} (Walton v. "
                   "Roosevelt University, 2023): grievance/arbitration, route to labour counsel"
                   if cba else None) or
                  (None if self.profile.derives_identifiers else "the declared processing derives "
                   "no identifiers"))
        out["counted"] = reason is None
        if reason:
            out["not_counted"] = reason
        return out


def _cba_at(lookup, subject_id: str | None, at: datetime) -> str | None:
    if subject_id is None or lookup is None:
        return None
    subject = lookup.subject_as_of(subject_id, at)
    return subject.employment_cba if subject is not None and subject.under_cba else None


def detector_records(scan: PhotoScan) -> tuple[list[FaceRecord], dict[int, Any]]:
    """The detector's faces as records: a photo's as found; a video's one per track (the best
    frame's box and score, the track's times). Also id(record) -> FaceTrack for a video's."""
    records, tracks = [], {}
    for i, f in enumerate(scan.faces):
        rec = FaceRecord(f.box, f.score, "detector", found_by=f.found_by, found_in=f.found_in)
        if scan.kind == "video" and i < len(scan.tracks):
            track = scan.tracks[i]
            rec.track = track_facts(track)
            tracks[id(rec)] = track
        records.append(rec)
    return records, tracks


def track_facts(track) -> dict:
    """A video face's times, as its face record carries them (seconds, to the millisecond)."""
    facts = track.as_dict()
    return {k: facts[k] for k in ("track", "start_s", "end_s", "best_time_s", "may_start_s", "may_end_s",
                                  "first_seen_s", "last_seen_s", "samples")}


def evaluate_photo(scan: PhotoScan, ctx: PolicyContext) -> PhotoOutcome:
    """One scanned photo's faces against the ledger: BIPA's release evaluator, then the other packs
    in ctx.scope. The ledger supplies the photo's links and processing events; without events the
    object's upload time (scan.modified) stands in."""
    lookup, profile, as_of, threshold, attestation, law = (ctx.ledger, ctx.profile, ctx.as_of, ctx.threshold,
                                                           ctx.attestation, ctx.law)
    links = lookup.photo_links(sha256=scan.sha256, relpath=scan.relpath) if lookup is not None else []
    events = lookup.processing_events(scan.sha256, scan.relpath) if lookup is not None else []
    outcome = PhotoOutcome()
    detected, tracks = detector_records(scan)
    confirmed = [rec for rec in detected if rec.score >= threshold]
    low = [rec for rec in detected if rec.score < threshold]
    records = _assign_links(confirmed, low, links, tracks)
    low = [r for r in low if r not in records]
    tag_rows = _add_tag_faces(records, scan.tags, ctx.tag_map or {})
    times = processing_times(events, scan.modified, as_of, attestation)
    photo = _Photo(profile, law, attestation, times, [territory(p, law, attestation) for p in times])
    outcome.times = times
    everywhere = photo.reach(range(len(times)))

    def finding(rule_id: str, faces: list[FaceRecord], message: str, sev: str, **details) -> Finding:
        return Finding(RULES[rule_id], sev, message, scan.url, scan.sha256, scan.size, faces, details)

    unlinked: list[FaceRecord] = []
    for rec in records:
        outcome.faces.append(rec)
        person = rec.subject_id or rec.person_key(scan.sha256)
        if rec.subject_id is not None and lookup is not None:
            judged = [_judge(ctx, rec.subject_id, p.at, p.purposes) for p in times]
            now = judged[-1] if judged else _judge(
                ctx, rec.subject_id, as_of, tuple(attestation.processing_purposes or ()) if attestation else ())
        else:
            judged = [Judgement("none") for _ in times]
            now = Judgement("none")
        rec.consent_status, rec.consent_id = now.status, now.consent_id
        rec.consent = consent_facts(lookup.consent(now.consent_id), ctx.evidence) if lookup and now.consent_id else None
        _record_verdicts(rec, photo, judged, lookup, ctx.evidence)
        if not times:
            continue  # the ledger's events say this photo was not processed yet on the audit date
        adopted = attestation.policy_adopted_at if attestation else None
        before_policy = [photo.entry(i, _cba_at(lookup, rec.subject_id, p.at))
                         for i, p in enumerate(times) if adopted is not None and p.at < adopted]
        if before_policy:
            outcome.processed[person] = (rec.subject_id is not None, before_policy)
        if any(j.status != "valid" and j.certain for j in judged):  # a shortfall nobody could check is review
            outcome.unconsented_persons.append(person)
        outcome.findings.extend(_consent_findings(photo, rec, person, judged, lookup, finding))
        outcome.findings.extend(_disclosure_findings(photo, rec, person, lookup, finding))
        if rec.subject_id is None:
            unlinked.append(rec)
        elif lookup is not None:
            deadline = law.retention_deadline(lookup.subject_as_of(rec.subject_id, as_of))
            if deadline is not None and deadline < as_of:  # at the deadline itself still compliant
                outcome.findings.append(finding(
                    "BIPA-15A-RETENTION", [rec],
                    f"Retention deadline for subject {rec.subject_id} passed on {deadline.date().isoformat()}: "
                    f"{RULES['BIPA-15A-RETENTION'].summary}", photo.severity(everywhere),
                    retention_deadline=format_datetime(deadline),
                    exposure={"section": "15(a)", "person": person, "linked": True,
                              "processing": [photo.entry(len(times) - 1, _cba_at(lookup, rec.subject_id, as_of))]}))
    if unlinked:
        outcome.findings.append(finding(
            "BIPA-15A-NO-DEADLINE", unlinked,
            f"{len(unlinked)} face(s) not linked to a ledger subject: {RULES['BIPA-15A-NO-DEADLINE'].summary}",
            "info" if photo.severity(everywhere) == "info" else "review"))
    if tag_rows:
        unconsented_named, details = _tag_finding_details(tag_rows, ctx.show_names, lookup, profile, as_of)
        named = sum(1 for region, _, _ in tag_rows if region.named)
        tools = sorted({tool for region, _, _ in tag_rows for tool in region.tool.split("+")})
        own = bool(attestation) and set(tools) <= set(attestation.tag_software)
        details["provenance"] = ("the operator's own pipeline (attested tag_software)" if own else
                                 "not shown to be the operator's pipeline: a tag typed by a person or "
                                 "made by other software is not the operator's scan (Barnett v. Apple)")
        if not unconsented_named or everywhere == OUT:
            severity = "info"
        elif own and profile.derives_identifiers and not photo.exemptions:
            severity = _SEVERITY_OF[everywhere]
        else:
            severity = "review"  # someone recognised a person, but not shown to be the operator's scan
        outcome.findings.append(finding(
            "BIPACHECK-FACE-TAGS", [r for _, r, _ in tag_rows if r is not None],
            f"{len(tag_rows)} face tag(s) in the file's metadata ({', '.join(tools)}), {named} naming a person; "
            f"{unconsented_named} named without a valid release in the ledger.",
            severity, **details))
    hidden = [rec for rec in records + low if (rec.found_in or "").startswith("embedded:")]
    if hidden:  # at least review, whatever the profile: someone hid a face where the photo does not show it
        places = sorted({rec.found_in for rec in hidden})
        outcome.findings.append(finding(
            "BIPACHECK-HIDDEN-FACE", hidden,
            f"{len(hidden)} face(s) found only in an image embedded in the file ({', '.join(places)}): "
            f"{RULES['BIPACHECK-HIDDEN-FACE'].summary}", "review", found_in=places))
    for rec in low:
        outcome.findings.append(finding(
            "BIPACHECK-LOW-CONFIDENCE", [rec],
            f"Possible face at {rec.place} scored {rec.score:.2f}, below the threshold {threshold:.2f}: "
            "a person should review it.", "review" if profile.derives_identifiers else "info"))
    if ctx.scope is not None:
        others = evaluate_packs(ctx.scope.face_packs(), scan, records, times, lookup=lookup, profile=profile,
                                as_of=as_of, attestation=attestation, settings=ctx.scope.settings,
                                evidence=ctx.evidence)
        outcome.findings = [f for f in outcome.findings + others.findings if ctx.scope.keeps(f)]
        outcome.pack_reach = others.reach
    return outcome


def _judge(ctx: PolicyContext, subject_id: str, at, purposes: tuple[str, ...]) -> Judgement:
    """BIPA's judgement of a subject's release at one time: in force for the profile's scope, complete
    (15(b)(1)-(3)), for the purposes the processing served (15(b)(2)) and, with --evidence, backed by
    its signed document (15(b)(3) "written release")."""
    req = ctx.law.pack.requires
    needs = Needs(content=True, explicit=bool(req.get("explicit_consent")),
                  purposes=bool(req.get("specified_purposes")), used=purposes, writing=bool(req.get("writing")),
                  evidence=ctx.evidence)
    return judge(ctx.ledger, subject_id, [ctx.profile.scope], at, ctx.law.minor_age, needs)


def _record_verdicts(rec: FaceRecord, photo: _Photo, judged: list[Judgement], lookup, evidence) -> None:
    """On the face: its release status at each processing time (15(b), and 15(d) per recipient), and
    every release those verdicts rest on (what the person roll-up shows as each person's documents)."""
    rec.verdicts = [{"at": format_datetime(p.at), "source": p.source, "scope": photo.profile.scope,
                     "status": j.status, "consent_id": j.consent_id} for p, j in zip(photo.times, judged)]
    if rec.subject_id is not None and lookup is not None:
        for p in photo.times:
            for name in p.recipients:
                scope = _disclosure_scope(photo, name)
                status = lookup.consent_status(rec.subject_id, scope, p.at)
                rec.verdicts.append({"at": format_datetime(p.at), "source": p.source, "scope": scope,
                                     "status": status.status, "consent_id": status.consent_id})
    cited = sorted({v["consent_id"] for v in rec.verdicts if v["consent_id"]} |
                   ({rec.consent_id} if rec.consent_id else set()))
    releases = [lookup.consent(cid) for cid in cited] if lookup is not None else []
    rec.documents = [{"consent_id": c.consent_id, **consent_facts(c, evidence)} for c in releases if c is not None]


def _consent_findings(photo: _Photo, rec: FaceRecord, person: str, judged: list[Judgement], lookup,
                      finding) -> list[Finding]:
    """One finding per rule broken at some processing time, listing those times."""
    by_rule: dict[str, list[int]] = {}
    for i, j in enumerate(judged):
        if j.status != "valid":
            by_rule.setdefault(CONSENT_RULES[j.status], []).append(i)
    who = f"subject {rec.subject_id}" if rec.subject_id else "an unidentified person (no ledger link)"
    out = []
    for rule, indices in by_rule.items():
        reach = photo.reach(indices)
        severity = photo.severity(reach)
        entries = [photo.entry(i, _cba_at(lookup, rec.subject_id, photo.times[i].at),
                               consent_id=judged[i].consent_id) for i in indices]
        defects = sorted({d for i in indices for d in judged[i].defects})
        if not any(judged[i].certain for i in indices) and severity != "info":
            severity = "review"  # it rests on a fact nobody recorded or could check: not counted as a violation
            for entry in entries:
                if entry["counted"]:
                    entry.update(counted=False, not_counted="review: a fact nobody recorded or could check")
        when = ", ".join(f"{e['at']} ({e['source']})" for e in entries[:3]) + (
            f" and {len(entries) - 3} more" if len(entries) > 3 else "")
        extra = {"defects": defects} if defects else {}
        out.append(finding(
            rule, [rec], f"Face at {rec.place} is {who}, processed {when}: {RULES[rule].summary}"
            + (f" ({'; '.join(defects)})" if defects else ""), severity,
            processing=photo.profile.name, reach=photo.law.id, **extra,
            exposure={"section": RULES[rule].section, "person": person, "linked": rec.subject_id is not None,
                      "processing": entries}))
    return out


def _disclosure_scope(photo: _Photo, recipient: str) -> str:
    """The release scope a disclosure to `recipient` needs: the attested one, else disclose:<name>."""
    attested = photo.attestation.recipient(recipient) if photo.attestation else None
    return attested.scope if attested else photo.law.disclosure_prefix + recipient


def _disclosure_findings(photo: _Photo, rec: FaceRecord, person: str, lookup, finding) -> list[Finding]:
    """15(d): each recipient needs the person's consent (scope disclose:<recipient>) at the time;
    15(c): a recipient that pays or otherwise profits the operator is a violation consent cannot cure."""
    disclosed, profited = [], []
    for i, p in enumerate(photo.times):
        for name in p.recipients:
            attested = photo.attestation.recipient(name) if photo.attestation else None
            scope = _disclosure_scope(photo, name)
            status = (lookup.consent_status(rec.subject_id, scope, p.at).status
                      if rec.subject_id is not None and lookup is not None else "none")
            cba = _cba_at(lookup, rec.subject_id, p.at)
            if status != "valid":
                disclosed.append((i, photo.entry(i, cba, recipient=name, needs_scope=scope, consent_status=status)))
            if attested and attested.consideration:
                profited.append((i, photo.entry(i, cba, recipient=name)))
    out = []
    for rule, items in (("BIPA-15D-DISCLOSURE", disclosed), ("BIPA-15C-PROFIT", profited)):
        if not items:
            continue
        names = sorted({e["recipient"] for _, e in items})
        reach = photo.reach([i for i, _ in items])
        out.append(finding(
            rule, [rec], f"Face at {rec.place} sent to {', '.join(names)}: {RULES[rule].summary}",
            photo.severity(reach), recipients=names,
            exposure={"section": RULES[rule].section, "person": person, "linked": rec.subject_id is not None,
                      "processing": [e for _, e in items]}))
    return out
