"""One scanned photo + the ledger -> findings, face by face.

Every face counts: a face with no matched subject holding a valid release for the profile's scope
is unconsented, bystanders and non-users included (the 2023 X Corp complaint's allegation).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from ..detect.base import iou
from ..report.model import Finding, FaceRecord, consent_facts
from ..scanner import PhotoScan
from .profiles import Profile
from .rules import CONSENT_RULES, RULES

LINK_MATCH_IOU = 0.3  # ledger boxes come from other tools: same face, looser box


@dataclass
class PhotoOutcome:
    findings: list[Finding] = field(default_factory=list)
    faces: list[FaceRecord] = field(default_factory=list)
    # keys of unconsented persons: a subject id, or a per-face key when the ledger cannot say who
    unconsented_persons: list[str] = field(default_factory=list)


def _assign_links(records: list[FaceRecord], low: list[FaceRecord], links) -> list[FaceRecord]:
    """Attach ledger subjects to faces. Boxed links match by IoU (a boxed link may confirm a
    low-confidence face, or add a face the detector missed); boxless links cover the remaining
    faces by count, largest first (the uploader and tagged people are usually the big faces)."""
    boxed = [link for link in links if link.box]
    pairs = sorted(
        ((iou(link.box, rec.box), i, j) for i, link in enumerate(boxed) for j, rec in enumerate(records + low)),
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


def _tag_finding_details(rows, show_names: bool, lookup, profile: Profile, as_of: datetime) -> tuple[str, dict]:
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
    if unconsented_named:
        severity = "violation" if profile.derives_identifiers else "review"
    else:
        severity = "info"
    return severity, {"regions": regions, "named_without_valid_release": unconsented_named}


def evaluate_photo(scan: PhotoScan, *, links, lookup, profile: Profile, as_of: datetime,
                   threshold: float, tag_map: dict[str, str] | None = None, show_names: bool = False) -> PhotoOutcome:
    """lookup: has consent_status(subject, scope, as_of) and retention_deadline(subject), or is None."""
    outcome = PhotoOutcome()
    confirmed = [FaceRecord(f.box, f.score, "detector") for f in scan.faces if f.score >= threshold]
    low = [FaceRecord(f.box, f.score, "detector") for f in scan.faces if f.score < threshold]
    records = _assign_links(confirmed, low, links)
    low = [r for r in low if r not in records]
    tag_rows = _add_tag_faces(records, scan.tags, tag_map or {})
    severity = "violation" if profile.derives_identifiers else "info"

    def finding(rule_id: str, faces: list[FaceRecord], message: str, sev: str, **details) -> Finding:
        return Finding(rule_id, sev, message, scan.url, scan.sha256, scan.size, faces, details)

    for rec in records:
        if rec.subject_id is not None and lookup is not None:
            status = lookup.consent_status(rec.subject_id, profile.scope, as_of)
            rec.consent_status, rec.consent_id, rec.consent = status.status, status.consent_id, consent_facts(status)
        outcome.faces.append(rec)
        who = f"subject {rec.subject_id}" if rec.subject_id else "an unidentified person (no ledger link)"
        if rec.consent_status != "valid":
            rule = CONSENT_RULES.get(rec.consent_status, "BIPA-15B-NO-RELEASE")
            outcome.unconsented_persons.append(rec.subject_id or f"face:{scan.sha256}:{rec.box}")
            outcome.findings.append(finding(
                rule, [rec], f"Face at {rec.box} is {who}: {RULES[rule].summary}", severity,
                processing=profile.name))
        if rec.subject_id is not None and lookup is not None:
            deadline = lookup.retention_deadline(rec.subject_id)
            if deadline is not None and deadline <= as_of:
                outcome.findings.append(finding(
                    "BIPA-15A-RETENTION", [rec],
                    f"Retention deadline for subject {rec.subject_id} passed on {deadline.date().isoformat()}: "
                    f"{RULES['BIPA-15A-RETENTION'].summary}", severity,
                    retention_deadline=deadline.isoformat()))
    if tag_rows:
        tag_severity, details = _tag_finding_details(tag_rows, show_names, lookup, profile, as_of)
        named = sum(1 for region, _, _ in tag_rows if region.named)
        tools = sorted({tool for region, _, _ in tag_rows for tool in region.tool.split("+")})
        outcome.findings.append(finding(
            "BIPACHECK-FACE-TAGS", [r for _, r, _ in tag_rows if r is not None],
            f"{len(tag_rows)} face tag(s) in the file's metadata ({', '.join(tools)}), {named} naming a person; "
            f"{details['named_without_valid_release']} named without a valid release in the ledger.",
            tag_severity, **details))
    for rec in low:
        outcome.findings.append(finding(
            "BIPACHECK-LOW-CONFIDENCE", [rec],
            f"Possible face at {rec.box} scored {rec.score:.2f}, below the threshold {threshold:.2f}: "
            "a person should review it.", "review" if profile.derives_identifiers else "info"))
    return outcome
