"""The person roll-up: one row per ledger subject (or per unlinked face) across the whole report.

Computed from report dicts only (findings and photos[].face_records), so it can be rebuilt from a
saved JSON report. An unlinked face cannot be matched across photos, so each one is its own
person, keyed as the exposure estimate counts it. Each row gives the person's first and last
processing time (what the limitation period runs from) and every release document a verdict rests
on, with the verdicts that rest on it.
"""

from __future__ import annotations

NOT_PERSONS = {"BIPACHECK-LOW-CONFIDENCE", "BIPACHECK-UNSCANNED"}  # possible faces / files, not people
_RANK = {"violation": 4, "review": 3, "info": 2, "accepted": 1, "consented": 0}


def person_key(subject_id: str | None, sha256: str | None, box: list[int], time_s: float | None = None) -> str:
    """A subject id, or the key the audit's exposure count uses for a face nobody is linked to (a
    video's face: with its best time; FaceRecord.person_key)."""
    if subject_id:
        return subject_id
    key = f"face:{sha256}:{list(box)}"
    return key if time_s is None else f"{key}@{time_s:.3f}"


def persons_roll_up(findings: list[dict], photos: list[dict]) -> list[dict]:
    people: dict[str, dict] = {}

    def person(face: dict, sha256: str | None) -> dict:
        key = person_key(face["subject_id"], sha256, face["box"], (face.get("track") or {}).get("best_time_s"))
        return people.setdefault(key, {
            "key": key, "subject_id": face["subject_id"], "consent_status": face["consent_status"],
            "consent_id": face.get("consent_id"), "consent": face.get("consent"),
            "photos": set(), "faces": 0, "findings": [], "rules": set(), "_severities": set(), "_suppressed": 0,
            "_verdicts": set(), "_documents": {},
        })

    def record(row: dict, face: dict) -> None:
        row["_verdicts"].update((v["at"], v["status"], v.get("consent_id"), v.get("scope"))
                                for v in face.get("verdicts") or ())
        for doc in face.get("documents") or ():
            row["_documents"].setdefault(doc["consent_id"], doc)

    for photo in photos:
        for face in photo.get("face_records", []):
            row = person(face, photo["sha256"])
            row["photos"].add(photo["path"])
            row["faces"] += 1
            record(row, face)
    for finding in findings:
        if finding["rule_id"] in NOT_PERSONS:
            continue
        for face in finding["faces"]:
            row = person(face, finding["photo"]["sha256"])
            record(row, face)
            row["photos"].add(finding["photo"]["path"])
            row["findings"].append(finding["fingerprint"])
            row["rules"].add(finding["rule_id"])
            if finding.get("suppressed"):
                row["_suppressed"] += 1
            else:
                row["_severities"].add(finding["severity"])
    out = []
    for row in people.values():
        severities, suppressed = row.pop("_severities"), row.pop("_suppressed")
        verdicts = sorted(row.pop("_verdicts"), key=lambda v: tuple(x or "" for x in v))
        documents = row.pop("_documents")
        row["first_processed"] = verdicts[0][0] if verdicts else None
        row["last_processed"] = verdicts[-1][0] if verdicts else None
        row["documents"] = [{**doc, "verdicts": [{"at": at, "status": status, **({"scope": scope} if scope else {})}
                                                 for at, status, cid, scope in verdicts if cid == consent_id]}
                            for consent_id, doc in sorted(documents.items())]
        if severities:
            status = max(severities, key=_RANK.__getitem__)
        elif suppressed:
            status = "accepted"
        else:
            status = "consented" if row["consent_status"] == "valid" else "info"
        row.update(status=status, photos=sorted(row["photos"]), rules=sorted(row["rules"]))
        out.append(row)
    return sorted(out, key=lambda r: (-_RANK[r["status"]], r["key"]))
