"""Face tags kept beside a photo: XMP sidecars, Google Takeout JSON, Picasa's .picasa.ini."""

from __future__ import annotations

import json
import os
import re

from .geometry import StoredRect

# A .picasa.ini covers a whole folder, so it may be much larger than one photo's metadata.
PICASA_MAX_BYTES = 32_000_000
PICASA_NAMES = (".picasa.ini", "picasa.ini")
_UNKNOWN_CONTACT = "ffffffffffffffff"  # Picasa's id for a face nobody has named
_DUPLICATE = re.compile(r"^(?P<stem>.*)(?P<n>\(\d+\))$")


def sidecar_paths(photo_path: str) -> list[str]:
    """Candidate sidecar files next to a photo (the caller keeps those that exist)."""
    folder, name = os.path.split(photo_path)
    stem, ext = os.path.splitext(name)
    names = [
        stem + ".xmp", stem + ".XMP",  # Lightroom, Capture One, Bridge
        name + ".xmp", name + ".XMP",  # digiKam, darktable
        name + ".json", stem + ".json",  # Google Takeout
        name + ".supplemental-metadata.json",  # Google Takeout since 2024
        (name + ".supplemental-metadata")[:46] + ".json",  # Takeout cuts names to 46 characters
        name[:46] + ".json",
    ]
    if match := _DUPLICATE.match(stem):  # Takeout: "a(1).jpg" is described by "a.jpg(1).json"
        names.append(match["stem"] + ext + match["n"] + ".json")
    names += list(PICASA_NAMES)
    paths = []
    for candidate in names:
        path = os.path.join(folder, candidate)
        if candidate != name and path not in paths:
            paths.append(path)
    return paths


def sidecar_kind(filename: str) -> str | None:
    base = os.path.basename(filename).lower()
    if base in PICASA_NAMES:
        return "picasa"
    if base.endswith(".xmp"):
        return "xmp"
    if base.endswith(".json"):
        return "takeout"
    return None


def takeout_people(data: bytes) -> list[str | None]:
    """Names in a Google Takeout photo JSON ("people": [{"name": ...}]). Raises ValueError."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    people = doc.get("people") if isinstance(doc, dict) else None
    if people is None:
        return []
    if not isinstance(people, list):
        raise ValueError("'people' is not a list")
    names: list[str | None] = []
    for person in people:
        name = person.get("name") if isinstance(person, dict) else None
        names.append(name.strip() if isinstance(name, str) and name.strip() else None)
    return names


def picasa_faces(data: bytes, photo_name: str) -> list[tuple[StoredRect | None, str, str | None]]:
    """(rect, contact id, contact name) for each face Picasa recorded for `photo_name`."""
    sections = _ini_sections(data.decode("utf-8", "replace"))
    contacts: dict[str, str] = {}
    for section in ("contacts2", "contacts"):
        for contact_id, value in sections.get(section, {}).items():
            name = value.split(";")[0].strip()
            if name:
                contacts.setdefault(contact_id.lower(), name)
    faces = sections.get(photo_name.casefold(), {}).get("faces", "")
    result = []
    for entry in filter(None, (e.strip() for e in faces.split(";"))):
        rect_text, _, contact_id = entry.partition(",")
        contact_id = contact_id.strip().lower()
        result.append((_rect64(rect_text.strip()), contact_id, contacts.get(contact_id)))
    return result


def picasa_identifies(contact_id: str) -> bool:
    """A contact id other than the "unknown" one ties the face to a person."""
    return bool(contact_id) and contact_id != _UNKNOWN_CONTACT


def _ini_sections(text: str) -> dict[str, dict[str, str]]:
    # Picasa's files are not strict INI (duplicate keys, odd section names): parse leniently.
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip().casefold(), {})
        elif current is not None and "=" in line:
            key, _, value = line.partition("=")
            current[key.strip().lower()] = value.strip()
    return sections


def _rect64(text: str) -> StoredRect | None:
    """rect64(hex): four 16-bit fractions of 65535 packed as left, top, right, bottom."""
    match = re.fullmatch(r"rect64\(([0-9a-fA-F]{1,16})\)", text)
    if not match:
        return None
    value = int(match[1], 16)
    left, top, right, bottom = ((value >> shift) & 0xFFFF for shift in (48, 32, 16, 0))
    if right <= left or bottom <= top:
        return None
    return StoredRect(left / 65535, top / 65535, right / 65535, bottom / 65535)
