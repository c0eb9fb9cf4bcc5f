"""Plan and write redacted copies from an audit report; the manifest; ledger links for the copies.

Which faces: every face of the photo whose release is not valid (bystanders, expired, revoked,
out of scope...) and every low-confidence possible face (fail closed); with all_faces, every face.
Files that could not be scanned are not copied: nothing shows they are free of faces.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

from ...errors import ConfigError
from ...ledger import Ledger
from ...metadata.batch import write_copy_of
from ...names import unprintable
from ...sources import locate
from ...metadata.strip import StripError, strip_face_tags_report
from ...report.formats import write_atomic
from ...report.model import Report
from .encode import redact_bytes
from .jpeg import RedactError

MANIFEST = "bipacheck-redaction.json"


@dataclass
class PhotoPlan:
    source: str
    output: str
    sha256: str
    obscure: list[dict]  # face dicts (box, subject_id, consent_status...) to obscure
    keep: list[dict]
    written_sha256: str | None = None
    regions: list[list[int]] = field(default_factory=list)
    changed_area: list[list[int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict:
        face = lambda f: {k: f.get(k) for k in ("box", "source", "subject_id", "consent_status", "consent_id")}  # noqa: E731
        return {"source": self.source, "source_sha256": self.sha256, "output": self.output,
                "output_sha256": self.written_sha256, "obscured": [face(f) for f in self.obscure],
                "kept": [face(f) for f in self.keep], "regions": self.regions, "changed_area": self.changed_area,
                "notes": self.notes, "error": self.error}


def output_for(path: str, sources: list[str], out_dir: str) -> str:
    """Where the copy of `path` goes: OUT/<folder name>/<path inside it>, or OUT/<file name>."""
    real = os.path.realpath(path)
    for source in sources:
        root = os.path.realpath(source)
        if os.path.isdir(source) and real.startswith(root + os.sep):
            return os.path.join(out_dir, os.path.basename(root), os.path.relpath(real, root))
        if real == root:
            return os.path.join(out_dir, os.path.basename(real))
    raise ConfigError(f"{path} is not under any source")


def check_out_dir(sources: list[str], out_dir: str) -> None:
    """Copies never land on or inside a source (an audit of the source would then see them)."""
    out = os.path.realpath(out_dir)
    for source in sources:
        if "://" in source:
            raise ConfigError(f"{source}: redact works on local files and folders")
        root = os.path.realpath(source)
        if out == root or out.startswith(root + os.sep) or (os.path.isfile(source) and os.path.dirname(root) == out):
            raise ConfigError(f"--out {out_dir} is inside or next to the source {source}; choose another folder")


def plan(report: Report, sources: list[str], out_dir: str, all_faces: bool) -> list[PhotoPlan]:
    low = {}
    for f in report.findings:
        if f.rule_id == "BIPACHECK-LOW-CONFIDENCE":
            low.setdefault(f.path, []).extend(face.as_dict() for face in f.faces)
    plans = []
    for photo in report.photos:
        faces = photo.get("face_records", []) + low.get(photo["path"], [])
        obscure = [f for f in faces if all_faces or f["consent_status"] != "valid"]
        keep = [f for f in faces if f not in obscure]
        source = os.fsdecode(os.fsencode(unprintable(locate(report.run.get("root"), photo["path"]))))
        plans.append(PhotoPlan(source, output_for(source, sources, out_dir), photo["sha256"], obscure, keep))
    return plans


def write_copy(item: PhotoPlan, style: str) -> None:
    """Redact one photo into item.output, or set item.error and write nothing."""
    try:
        with open(item.source, "rb") as fh:
            data = fh.read()
        if hashlib.sha256(data).hexdigest() != item.sha256:
            raise RedactError("the photo changed since it was audited")
        if item.obscure:
            result = redact_bytes(data, [f["box"] for f in item.obscure], style)
            out = result.data
            item.regions, item.changed_area, item.notes = result.regions, result.changed_area, result.notes
            item.notes += _overlaps(item)
        else:  # nothing to obscure: the same bytes, minus face tags
            stripped = strip_face_tags_report(data)
            out, item.notes = stripped.data, stripped.notes
            if stripped.total_removed:
                item.notes.append(f"{stripped.total_removed} face tag(s) removed from the XMP")
        write_copy_of(item.source, item.output, out)
    except (OSError, RedactError, StripError) as exc:
        item.error = str(exc)
        return
    item.written_sha256 = hashlib.sha256(out).hexdigest()


def _overlaps(item: PhotoPlan) -> list[str]:
    """A face without a release next to a consented one: obscuring it wins (fail closed), and says so."""
    notes = []
    for face in item.keep:
        x, y, w, h = face["box"]
        for x0, y0, x1, y1 in item.changed_area:
            if x < x1 and x0 < x + w and y < y1 and y0 < y + h:
                notes.append(f"the area changed around an obscured face overlaps the kept face at {face['box']} "
                             f"({face.get('subject_id') or 'unidentified'})")
                break
    return notes


def link_copies(ledger_path: str, plans: list[PhotoPlan]) -> int:
    """Link each kept (consented) face's subject to its copy by the copy's SHA-256, in the ledger's
    event log; the copy has new bytes, so the source's content-hash links do not reach it."""
    added = 0
    with Ledger.open(ledger_path, actor="bipacheck redact") as ledger:
        for item in plans:
            if item.error or item.written_sha256 in (None, item.sha256):
                continue
            for face in item.keep:
                if face.get("subject_id"):
                    ledger.link(face["subject_id"], photo_sha256=item.written_sha256, box=face["box"])
                    added += 1
    return added


def write_manifest(out_dir: str, report: Report, plans: list[PhotoPlan], settings: dict) -> str:
    path = os.path.join(out_dir, MANIFEST)
    doc = {"tool": report.tool, "settings": settings, "audit": {k: report.run[k] for k in ("as_of", "processing",
                                                                                      "detector", "ledger")},
           "photos": [p.as_dict() for p in plans],
           "not_copied": [{"path": s["path"], "reason": s["reason"], "message": s["message"]} for s in report.skipped]}
    os.makedirs(out_dir, exist_ok=True)
    write_atomic(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return path
