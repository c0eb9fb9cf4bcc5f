"""Plan and write redacted copies from an audit report; the manifest; ledger links for the copies.

Which faces: every face of the photo whose release is not valid (bystanders, expired, revoked,
out of scope...) and every low-confidence possible face (fail closed); with all_faces, every face.
Files that could not be scanned, wholly or in part (frames, embedded images, part of a video), are
not copied: nothing shows they are free of faces. Copies are written below --out only, never through
a link. A video's faces are its face tracks: each is obscured in every frame it may be on screen in
(bipacheck.video.redact_video, audio kept), written to a temporary folder and then streamed below --out.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field

from ...errors import BipacheckError, ConfigError
from ...hashing import sha256_file
from ...imaging import sniff_format
from ...imaging.formats import redactable
from ...ledger import Ledger
from ...metadata.strip import StripError, strip_face_tags_report
from ...names import printable, unprintable
from ...outputs import REPORT_MODE, UnsafeOutput, open_beneath, write_beneath
from ...report.model import Report
from ...sources import locate
from ...video import redact_video
from .allowlist import copy_bytes
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
    parts: list[str] = field(default_factory=list)  # the copy's path below --out
    written_sha256: str | None = None
    regions: list[list[int]] = field(default_factory=list)
    changed_area: list[list[int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    kind: str = "image"  # or "video"
    tracks: list = field(default_factory=list)  # a video's FaceTracks to obscure (of the `obscure` faces)
    video: dict | None = None  # what redact_video wrote (bipacheck.video.VideoRedaction.as_dict)
    name: str = ""  # the photo as the report names it (below the audit's root)

    def as_dict(self) -> dict:
        """The manifest's entry: the source as the report names it (below `audit.root`), the copy below
        the manifest's own folder; no absolute local path but the root."""
        keys = ("box", "source", "subject_id", "consent_status", "consent_id", "track")
        face = lambda f: {k: f.get(k) for k in keys if k != "track" or f.get("track")}  # noqa: E731
        out = {"source": self.name or printable(self.source), "source_sha256": self.sha256,
               "output": printable("/".join(self.parts)) if self.parts else printable(self.output),
               "output_sha256": self.written_sha256, "obscured": [face(f) for f in self.obscure],
               "kept": [face(f) for f in self.keep], "regions": self.regions, "changed_area": self.changed_area,
               "notes": self.notes, "error": self.error}
        if self.kind == "video":
            out["kind"] = "video"
            out["video"] = self.video
        return out


def source_labels(sources: list[str]) -> dict[str, list[str]]:
    """Each source's folder below --out: its own name, or, when two sources share a name (a/photos and
    b/photos), its path from their common folder, so that neither overwrites the other's copies."""
    reals = {s: os.path.realpath(s) for s in sources}
    names = {s: [os.path.basename(r)] for s, r in reals.items()}
    if len({names[s][0] for s in sources}) == len(set(reals.values())):
        return names
    common = os.path.commonpath(list(reals.values()))
    if common in reals.values():
        common = os.path.dirname(common)
    return {s: os.path.relpath(r, common).split(os.sep) for s, r in reals.items()}


def output_parts(path: str, sources: list[str], labels: dict[str, list[str]]) -> list[str]:
    """Where the copy of `path` goes below --out: <source label>/<path inside it>, or <label> for a file."""
    real = os.path.realpath(path)
    for source in sources:
        root = os.path.realpath(source)
        if os.path.isdir(source) and real.startswith(root + os.sep):
            return [*labels[source], *os.path.relpath(real, root).split(os.sep)]
        if real == root:
            return labels[source]
    raise ConfigError(f"{path} is not under any source")


def check_out_dir(sources: list[str], out_dir: str) -> None:
    """Copies never land on or inside a source (an audit of the source would then see them), and --out
    is not itself a symbolic link (nothing below it is followed either: outputs.write_beneath)."""
    if os.path.islink(out_dir):
        raise ConfigError(f"--out {out_dir} is a symbolic link; name the folder itself")
    out = os.path.realpath(out_dir)
    for source in sources:
        if "://" in source:
            raise ConfigError(f"{source}: redact works on local files and folders")
        root = os.path.realpath(source)
        if out == root or out.startswith(root + os.sep) or (os.path.isfile(source) and os.path.dirname(root) == out):
            raise ConfigError(f"--out {out_dir} is inside or next to the source {source}; choose another folder")
    # where each source's copies go (--out/<label>) must not be, hold or lie in a source: `redact
    # photos --out .` would otherwise write each copy over its original
    roots = [os.path.realpath(s) for s in sources]
    for source, label in source_labels(sources).items():
        target = os.path.normpath(os.path.join(out, *label))  # links below --out: outputs.write_beneath
        for root in roots:
            if _overlap(target, root):
                raise ConfigError(f"--out {out_dir}: the copies of {source} would go to {target}, which is or "
                                  f"overlaps the source {root}; choose another folder")


def _overlap(a: str, b: str) -> bool:
    """Is one of two real paths the other or inside it?"""
    return a == b or a.startswith(b.rstrip(os.sep) + os.sep) or b.startswith(a.rstrip(os.sep) + os.sep)


def not_copied(report: Report) -> list[dict]:
    """Files not copied: skipped ones, and photos parts of which (frames, embedded images) were not scanned."""
    partly = [{"path": f.path, "reason": f.details.get("reason", "unscanned"), "message": f.message}
              for f in report.unscanned if f.sha256 is not None and any(p["path"] == f.path for p in report.photos)]
    return [{"path": s["path"], "reason": s["reason"], "message": s["message"]} for s in report.skipped] + partly


def plan(report: Report, sources: list[str], out_dir: str, all_faces: bool) -> list[PhotoPlan]:
    low = {}
    for f in report.findings:
        if f.rule_id == "BIPACHECK-LOW-CONFIDENCE":
            low.setdefault(f.path, []).extend(face.as_dict() for face in f.faces)
    left_out = {item["path"] for item in not_copied(report)}
    labels = source_labels(sources)
    plans = []
    for photo in report.photos:
        if photo["path"] in left_out:
            continue
        faces = photo.get("face_records", []) + low.get(photo["path"], [])
        obscure = [f for f in faces if all_faces or f["consent_status"] != "valid"]
        keep = [f for f in faces if f not in obscure]
        source = os.fsdecode(os.fsencode(unprintable(locate(report.run.get("root"), photo["path"]))))
        parts = output_parts(source, sources, labels)
        item = PhotoPlan(source, os.path.join(out_dir, *parts), photo["sha256"], obscure, keep, parts,
                         name=photo["path"])
        if photo.get("kind") == "video":
            tracks = report.video_tracks.get(photo["path"], {})
            item.kind = "video"
            item.tracks = [tracks[f["track"]["track"]] for f in obscure
                           if f.get("track") and f["track"]["track"] in tracks]
        plans.append(item)
    return plans


def write_copy(item: PhotoPlan, style: str, out_dir: str) -> None:
    """Redact one photo (or video) into out_dir/item.parts, or set item.error and write nothing."""
    if item.kind == "video":
        write_video_copy(item, style, out_dir)
        return
    try:
        with open(item.source, "rb") as fh:
            data = fh.read()
            st = os.fstat(fh.fileno())
        if hashlib.sha256(data).hexdigest() != item.sha256:
            raise RedactError("the photo changed since it was audited")
        if item.obscure:
            result = redact_bytes(data, [f["box"] for f in item.obscure], style)
            out = result.data
            item.regions, item.changed_area, item.notes = result.regions, result.changed_area, result.notes
            item.notes += _overlaps(item)
        elif redactable(sniff_format(data)):  # nothing to obscure: the same image data, allow-listed metadata
            out, item.notes = copy_bytes(data, sniff_format(data))
        else:  # a format redact cannot rewrite: the same bytes, minus face tags (its previews were scanned)
            stripped = strip_face_tags_report(data)
            out, item.notes = stripped.data, stripped.notes
            if stripped.total_removed:
                item.notes.append(f"{stripped.total_removed} face tag(s) removed from the XMP")
        # timestamps and mode kept (photo libraries sort by them); never through a link, never outside --out
        write_beneath(out_dir, item.parts, out, mode=st.st_mode, times=(st.st_atime_ns, st.st_mtime_ns))
    except (OSError, RedactError, StripError, UnsafeOutput) as exc:
        item.error = str(exc)
        return
    item.written_sha256 = hashlib.sha256(out).hexdigest()


def write_video_copy(item: PhotoPlan, style: str, out_dir: str) -> None:
    """A video's copy with its tracks to obscure obscured in every frame they may be on screen in
    (audio kept), or item.error and nothing written. A face to obscure that has no track (one only the
    ledger knows of) cannot be placed in time: nothing is written then (fail closed)."""
    try:
        if sha256_file(item.source) != item.sha256:
            raise RedactError("the video changed since it was audited")
        untimed = [f for f in item.obscure if not f.get("track")]
        if untimed or len(item.tracks) != len(item.obscure):
            raise RedactError(f"{len(item.obscure) - len(item.tracks)} face(s) to obscure have no face track in "
                              "the video (known only from the ledger or metadata): they cannot be placed in time")
        st = os.stat(item.source)
        with tempfile.TemporaryDirectory(prefix="bipacheck-redact-") as tmp:
            staged = os.path.join(tmp, "copy")
            record = redact_video(item.source, staged, item.tracks, style=style)
            with open(staged, "rb") as src, open_beneath(out_dir, item.parts, mode=st.st_mode,
                                                          times=(st.st_atime_ns, st.st_mtime_ns)) as (fh, _):
                shutil.copyfileobj(src, fh, 8 << 20)
    except (OSError, RedactError, UnsafeOutput, BipacheckError) as exc:
        item.error = str(exc)
        return
    item.video = {k: v for k, v in record.as_dict().items() if k != "destination"}
    item.written_sha256 = record.sha256
    item.notes += list(record.warnings)


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
                    ledger.link(face["subject_id"], photo_sha256=item.written_sha256, box=face["box"],
                                time_s=(face.get("track") or {}).get("best_time_s"))
                    added += 1
    return added


def write_manifest(out_dir: str, report: Report, plans: list[PhotoPlan], settings: dict) -> str:
    doc = {"tool": report.tool, "settings": settings, "audit": {k: report.run.get(k) for k in (
               "as_of", "processing", "detector", "ledger", "root")},
           "photos": [p.as_dict() for p in plans], "not_copied": not_copied(report)}
    return write_beneath(out_dir, [MANIFEST], (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode(),
                         mode=REPORT_MODE)
