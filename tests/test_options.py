"""One contract for the CLI, the Python API and the config file (sqlite-utils style: same names)."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from PIL import Image

import bipacheck
from bipacheck.cli import cli
from bipacheck.errors import ConfigError
from bipacheck.hashing import sha256_file
from bipacheck.ledger import Ledger
from bipacheck.options import OPTIONS, build, help_for, names_for
from tests.images import encode, rgb
from tests.test_audit_tags import ASTRONAUT_TAG, photo_with_tags
from tests.test_metadata_support import mwg_face

REPO = Path(__file__).resolve().parents[1]
TIMES = {"started_at", "finished_at", "startTimeUtc", "endTimeUtc"}


def cli_run(*args, cwd: Path | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def test_every_flag_of_audit_scan_check_is_an_api_keyword_and_a_config_key():
    for command in ("audit", "scan", "check"):
        params = {p.name: p for p in cli.commands[command].params if isinstance(p, click.Option)}
        flags = set(params) - {"config_file", "no_config", "help"}
        # every option is a flag except tables only a file or a keyword can give (the attestation, org)
        assert flags == {n for n in names_for(command) if OPTIONS[n].metadata["cli"]}, command
        for name in flags:
            option = params[name]
            assert option.opts[0] == "--" + name.replace("_", "-"), name  # the flag is the keyword, dashed
            assert option.help == help_for(name, command), name  # one help text, one meaning
        signature = __import__("inspect").signature(getattr(bipacheck, command))
        assert set(signature.parameters) - {"sources", "paths", "files", "config"} == set(names_for(command))


def _help(*command: str) -> str:
    result = CliRunner().invoke(cli, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def test_help_shows_typed_values_and_each_command_its_own_formats():
    for command in ("audit", "scan", "check"):
        text = _help(command)
        for flag, kind in (("--min-face", "INTEGER RANGE"), ("--max-pixels", "INTEGER RANGE"),
                           ("--workers", "INTEGER RANGE"), ("--threshold", "FLOAT RANGE")):
            assert re.search(rf"{flag} {kind}", text), (command, flag)
        assert "--as-of DATE" in text or command == "scan"
        assert not re.search(r"--(min-face|max-pixels|max-frames|workers|threshold|review-threshold) TEXT", text)
    assert "html" not in _help("scan") and "sarif" not in _help("scan")
    assert "html" not in _help("check") and "markdown" not in _help("check")
    assert "html" in _help("audit") and "[default: 24; x>=1]" in _help("audit")
    code, out = cli_run("audit", ".", "--min-face", "big")
    assert code == 2 and "'big' is not a valid integer" in out


def test_help_paragraphs_have_no_runs_of_spaces():
    """click rewraps a docstring's paragraphs: an indented one would keep its indentation inside the lines."""
    def walk(group: click.Group, prefix: list[str]):
        for name, command in group.commands.items():
            yield [*prefix, name]
            if isinstance(command, click.Group):
                yield from walk(command, [*prefix, name])

    for path in [[], *walk(cli, [])]:
        text = _help(*path)
        description = text.split("\nOptions:")[0].split("\nCommands:")[0].split("Exit codes")[0]
        runs = [line for line in description.splitlines() if re.search(r"\S {2,}\S", line)]
        assert runs == [], (" ".join(path), runs)


def test_config_keys_are_the_option_names(tmp_path):
    (tmp_path / ".bipacheck.toml").write_text('min-face = 64\nas_of = "2026-01-01"\ninclude = "*.jpg"\n')
    opts, path = build("audit", {}, start=tmp_path)
    assert path == tmp_path / ".bipacheck.toml"
    assert opts.min_face == 64 and opts.as_of.isoformat() == "2026-01-01T00:00:00+00:00"
    assert opts.include == ("*.jpg",)  # one string is one pattern
    assert build("audit", {"min_face": "32"}, start=tmp_path)[0].min_face == 32  # given beats config
    assert build("audit", {}, config=False, start=tmp_path)[0].min_face == 24  # no config: default
    (tmp_path / ".bipacheck.toml").write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        build("audit", {}, start=tmp_path)


def test_api_takes_strings_where_the_cli_does_and_one_str_is_one_source(tmp_path, centerface):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.png").write_bytes(encode(rgb("astronaut")))
    report = bipacheck.audit(str(folder), as_of="2026-11-01", min_face="64", workers=1, quiet=True,
                             org={"processing_regions": ["US-IL"]})  # in BIPA's reach: a violation
    assert report.run["sources"] == [str(folder)] and report.summary["files_listed"] == 1
    assert report.run["as_of"].startswith("2026-11-01") and report.run["min_face"] == 64
    assert report.exit_code == 1
    with pytest.raises(ConfigError, match="unknown option"):
        bipacheck.audit(str(folder), min_faces=64)
    with pytest.raises(ConfigError, match="min_face|--min-face"):
        bipacheck.audit(str(folder), min_face="big")
    with pytest.raises(ConfigError, match="staged"):
        bipacheck.audit(str(folder), staged=True)  # a check option


def test_audit_reads_the_config_file_like_check(tmp_path, monkeypatch, centerface):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.png").write_bytes(encode(rgb("astronaut")))
    ledger = Ledger.create(tmp_path / "consent.db")
    ledger.add_subject("u-1", last_interaction_at="2026-01-01")
    ledger.grant("u-1", "face_geometry", "2025-01-01", method="electronic", purpose="tagging", term="P3Y",
                 notice_elements="collection;purpose;term", purposes="tagging")
    ledger.link("u-1", photo_path="a.png")
    ledger.close()
    (tmp_path / ".bipacheck.toml").write_text('ledger = "consent.db"\nas_of = "2026-11-01"\n[org]\n'
                                              'processing_regions = ["US-IL"]\nprocessing_purposes = ["tagging"]\n')
    monkeypatch.chdir(tmp_path)
    code, out = cli_run("audit", "photos", "--format", "json", "--workers", "1")
    assert code == 0, out
    report = json.loads(out)
    assert report["run"]["ledger"]["path"] == str(tmp_path / "consent.db")
    assert report["summary"]["unconsented_faces"] == 0
    assert bipacheck.audit("photos", workers=1).exit_code == 0
    code, out = cli_run("audit", "photos", "--no-config", "--workers", "1", "--format", "json")
    # without the config there is no ledger: the face has no release; and no attestation, so BIPA's
    # reach is unknown and the finding is a review, which could not be checked: exit 3, never a pass
    assert code == 3 and [(f["rule_id"], f["severity"]) for f in json.loads(out)["findings"]
                          if f["photo"]["sha256"]][0] == ("BIPA-15B-NO-RELEASE", "review")


# -- the same settings give the same report, whichever way they are given --------------------------

def _corpus(tmp_path: Path) -> dict:
    folder = tmp_path / "photos"
    folder.mkdir()
    # the astronaut, with her face named in the photo's XMP (for --tag-map and --show-names)
    (folder / "face.jpg").write_bytes(photo_with_tags(mwg_face(**ASTRONAUT_TAG, name="Eileen")))
    (folder / "scene.png").write_bytes(encode(rgb("coffee")[::2, ::2]))
    frames = [Image.fromarray(rgb(name)[::4, ::4]) for name in ("coffee", "rocket")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])  # for --max-frames
    (folder / "anim.gif").write_bytes(buf.getvalue())
    (tmp_path / "elsewhere.png").write_bytes(encode(rgb("rocket")[::4, ::4]))
    (folder / "elsewhere.png").symlink_to(tmp_path / "elsewhere.png")  # outside the folder: for --follow-symlinks
    ledger = Ledger.create(tmp_path / "consent.db")
    ledger.add_subject("u-1", last_interaction_at="2026-01-01")
    ledger.grant("u-1", "face_geometry", "2025-01-01", method="electronic", purpose="tagging", term="P3Y",
                 notice_elements="collection;purpose;term", purposes="tagging")
    ledger.link("u-1", photo_path="face.jpg", box=[165, 40, 110, 140])
    (tmp_path / "consent.head").write_text("%d %s\n" % ledger.head())  # for --ledger-head
    ledger.close()
    (tmp_path / "names.csv").write_text("name,subject_id\nEileen,u-1\n")
    (tmp_path / "keys.txt").write_text("face.jpg\n")
    (tmp_path / "packs").mkdir()  # for --packs-path: a pack evaluated by default
    (tmp_path / "packs" / "everywhere.toml").write_text(EVERYWHERE_PACK)
    (tmp_path / "evidence").mkdir()  # for --evidence: the release's document is not there
    _commit_all(folder)  # for --history: the photos are also blobs of a repository's history
    return {"folder": folder, "ledger": tmp_path / "consent.db"}


def _commit_all(folder: Path) -> None:
    import subprocess

    git = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "photos"], check=True)


def _value(name: str, tmp_path: Path):
    """A non-default value of each option that a local two-photo audit can use."""
    return {
        "ledger": str(tmp_path / "consent.db"), "processing": "face-detection-only", "as_of": "2026-01-01",
        "review_threshold": 0.2, "fail_on": "review", "video_interval": 0.5, "baseline": str(tmp_path / "baseline.json"),
        "tag_map": str(tmp_path / "names.csv"), "show_names": True, "allow_broken_ledger": True,
        "detector": "yunet", "threshold": 0.5, "min_face": 64, "max_pixels": 100_000, "max_frames": 1,
        "no_tags": True, "include": "*.png", "exclude": "*.gif", "manifest": str(tmp_path / "keys.txt"),
        "endpoint_url": "http://127.0.0.1:9", "workers": 2, "dask": "local", "cache": str(tmp_path / "scan.db"),
        "no_cache": True, "full": True, "quiet": True, "staged": False, "format": "sarif", "follow_symlinks": True,
        "output": str(tmp_path / "out.any"), "html_thumbnails": "none", "jurisdiction": "texas-cubi",
        "packs_path": str(tmp_path / "packs"), "history": True, "evidence": str(tmp_path / "evidence"),
        "output_mode": "640", "ledger_head": str(tmp_path / "consent.head"),
    }[name]


EVERYWHERE_PACK = """
id = "everywhere"
name = "A test law that reaches every capture"
citation = "Test Code 1"
effective = "2020-01-01"
mark = "M"
default = true
trigger = {regions = ["US"], on = ["capture"]}
requires = {consent = "none"}
retention = {rule = "none"}
disclosure = {rule = "none"}
enforcement = {kind = "unquantified", text = "none"}
[[rules]]
id = "EVERYWHERE-FACE"
name = "face-seen"
check = "present"
severity = "info"
citation = "Test Code 1(a)"
summary = "A face."
fix = "None."
"""


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    return str(value)


def _flags(name: str, value) -> list[str]:
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool):
        return [flag] if value else []
    return [flag, str(value)]


def _normalised(text: str):
    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in TIMES}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node
    return strip(json.loads(text))


# org: tests/test_legal_cases.py; since and range narrow --history: tests/test_audit_history.py
AUDIT_OPTIONS = [n for n in names_for("audit") if OPTIONS[n].metadata["cli"] and n not in ("since", "range")]


@pytest.mark.parametrize("name", AUDIT_OPTIONS)
def test_cli_api_and_config_give_the_same_report(name, tmp_path, monkeypatch, centerface):
    """For every option of `audit`: the flag, the keyword and the config key give one report."""
    corpus = _corpus(tmp_path)
    monkeypatch.chdir(tmp_path)
    value = _value(name, tmp_path)
    out = Path(value) if name == "output" else tmp_path / "out.json"
    base = {"workers": 1, "quiet": True, "as_of": "2026-11-01"}
    if name not in ("format", "output"):
        base.update(format="json", output=str(out))
    elif name == "format":
        base["output"] = str(out)
    else:
        base["format"] = "json"
    if name == "ledger_head":
        base["ledger"] = str(tmp_path / "consent.db")  # a head is checked against a ledger
    base.pop(name, None)
    source = str(corpus["folder"])
    results = {}
    base_flags = [a for k, v in base.items() for a in _flags(k, v)]
    for stale in (out, tmp_path / "scan.db", tmp_path / "consent.db.cache.db"):
        stale.unlink(missing_ok=True)
    code, text = cli_run("audit", source, *base_flags, *_flags(name, value), "--no-config")
    assert code != 2, text
    results["cli"] = _normalised(out.read_text())

    for stale in (out, tmp_path / "scan.db", tmp_path / "consent.db.cache.db"):
        stale.unlink(missing_ok=True)
    report = bipacheck.audit(source, config=False, **base, **{name: value})
    assert report.exit_code == code
    results["api"] = _normalised(out.read_text())

    for stale in (out, tmp_path / "scan.db", tmp_path / "consent.db.cache.db"):
        stale.unlink(missing_ok=True)
    (tmp_path / ".bipacheck.toml").write_text(f"{name} = {_toml(value)}\n")
    code_config, _ = cli_run("audit", source, *base_flags)
    assert code_config == code
    results["config"] = _normalised(out.read_text())

    assert results["cli"] == results["api"] == results["config"]
    # and the setting really took effect (it changes the report, or is an execution-only choice)
    default_flags = [a for k, v in {**base, "format": "json", "output": str(tmp_path / "default.json")}.items()
                     for a in _flags(k, v)]
    (tmp_path / ".bipacheck.toml").unlink()
    cli_run("audit", source, *default_flags, "--no-config")
    default = _normalised((tmp_path / "default.json").read_text())
    execution_only = {"workers", "dask", "quiet", "full", "no_cache", "endpoint_url", "output",
                      "allow_broken_ledger", "html_thumbnails",  # html_thumbnails: tests/test_html_report.py
                      "output_mode"}  # the file's mode, not its content: tests/test_report_files.py
    if name not in execution_only:
        assert results["cli"] != default, f"{name}={value!r} changed nothing"


def test_scan_and_check_take_their_options_the_same_three_ways(tmp_path, monkeypatch, centerface):
    corpus = _corpus(tmp_path)
    monkeypatch.chdir(corpus["folder"])
    subprocess_git_init(corpus["folder"])
    ways = {}
    for way in ("cli", "api", "config"):
        (tmp_path / ".bipacheck.toml").unlink(missing_ok=True)  # found from the folder upwards
        if way == "cli":
            code, text = cli_run("scan", *PHOTOS, "--min-face", "64", "--format", "json", "--no-config",
                                 "--workers", "1")
            scanned = json.loads(text)
            code2, text2 = cli_run("check", "face.jpg", "--ledger", corpus["ledger"], "--as-of", "2026-01-01",
                                   "--min-face", "64", "--format", "json", "--no-config", "--workers", "1")
            checked = _normalised(text2)
        elif way == "api":
            result = bipacheck.scan(PHOTOS, min_face=64, config=False, workers=1, quiet=True)
            scanned, code = result.as_dict(), result.exit_code
            report = bipacheck.check("face.jpg", ledger=str(corpus["ledger"]), as_of="2026-01-01", min_face=64,
                                     config=False, workers=1)
            checked, code2 = _normalised(report.render("json")), report.exit_code
        else:
            (tmp_path / ".bipacheck.toml").write_text(
                f'min_face = 64\nledger = {json.dumps(str(corpus["ledger"]))}\nas_of = "2026-01-01"\nworkers = 1\n')
            code, text = cli_run("scan", *PHOTOS, "--format", "json")
            scanned = json.loads(text)
            code2, text2 = cli_run("check", "face.jpg", "--format", "json")
            checked = _normalised(text2)
        scanned.pop("cache", None)
        ways[way] = (code, scanned["files"], code2, checked)
    for way in ("api", "config"):
        for i, part in enumerate(ways[way]):
            assert part == ways["cli"][i], (way, i)
    assert ways["cli"][0] == 0
    # the linked face has its release, but without an attestation nobody said what the processing
    # served (15(b)(2): review) nor where it happened (so it could not be checked: exit 3); the name
    # typed into the XMP (no --tag-map) is a review too (not the operator's scan, Barnett v. Apple)
    assert ways["cli"][2] == 3
    assert {f["rule_id"] for f in ways["cli"][3]["findings"] if f["photo"]["sha256"]} == {
        "BIPACHECK-FACE-TAGS", "BIPA-15B-PURPOSE"}
    assert all(min(max(f["box"][2:]) for f in entry["faces"] or [{"box": [0, 0, 64, 64]}]) >= 64
               for entry in ways["cli"][1])  # --min-face 64 took effect


PHOTOS = ["face.jpg", "scene.png", "anim.gif"]  # not ".": the folder is a git repository for check


def subprocess_git_init(folder: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(folder)], check=True)


# -- fail closed --------------------------------------------------------------------------------------

def test_an_audit_of_nothing_is_an_error_not_a_pass(tmp_path, centerface):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out = cli_run("audit", empty, "--no-config")
    assert code == 2 and "nothing to audit" in out
    (empty / "a.jpg").write_bytes(encode(rgb("coffee"), "JPEG"))
    code, out = cli_run("audit", empty, "--include", "*.png", "--no-config")
    assert code == 2 and "nothing to audit" in out
    assert cli_run("scan", empty, "--include", "*.png", "--no-config")[0] == 2
    with pytest.raises(ConfigError, match="nothing to audit"):
        bipacheck.audit(str(empty), include="*.png", config=False)


def test_output_never_replaces_a_ledger_a_cache_or_another_file(tmp_path, centerface):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.png").write_bytes(encode(rgb("coffee")[::4, ::4]))
    ledger_path = tmp_path / "consent.db"
    Ledger.create(ledger_path).close()
    assert cli_run("audit", folder, "--ledger", ledger_path, "--no-config")[0] == 0  # fills the default cache
    before = sha256_file(ledger_path)
    for fmt in ("json", "table", "sarif"):
        code, out = cli_run("audit", folder, "--ledger", ledger_path, "--format", fmt, "-o", ledger_path,
                            "--no-config")
        assert code == 2 and "refusing" in out, out
    assert sha256_file(ledger_path) == before
    cache = tmp_path / "consent.db.cache.db"
    assert cache.exists()  # the audit's default cache, next to the ledger
    cache_hash = sha256_file(cache)
    assert cli_run("audit", folder, "--ledger", ledger_path, "-o", cache, "--no-config")[0] == 2
    assert sha256_file(cache) == cache_hash
    notes = tmp_path / "notes.md"
    notes.write_text("# my notes\n")
    assert cli_run("audit", folder, "-o", notes, "--no-config")[0] == 2 and notes.read_text() == "# my notes\n"
    # a previous report of any format is replaced
    report = tmp_path / "report.out"
    for fmt in ("json", "sarif", "table", "json"):
        code, out = cli_run("audit", folder, "--format", fmt, "-o", report, "--no-config")
        assert code == 0, out


def test_a_tampered_ledger_stops_the_audit_unless_overridden_and_is_never_written(tmp_path, centerface):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.png").write_bytes(encode(rgb("astronaut")))
    path = tmp_path / "consent.db"
    ledger = Ledger.create(path)
    ledger.add_subject("u-1", last_interaction_at="2026-01-01")
    ledger.grant("u-1", "face_geometry", "2025-01-01", expires_at="2025-06-01", method="electronic")
    ledger.link("u-1", photo_path="a.png")
    ledger.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE consents SET expires_at = '2099-01-01T00:00:00Z'")  # behind bipacheck's back
    db.commit()
    db.close()
    tampered = sha256_file(path)
    code, out = cli_run("audit", folder, "--ledger", path, "--as-of", "2026-11-01", "--no-config")
    assert code == 2 and "hash chain broken" in out and "--allow-broken-ledger" in out
    code, out = cli_run("audit", folder, "--ledger", path, "--as-of", "2026-11-01", "--allow-broken-ledger",
                        "--format", "json", "--no-config", "--no-cache")
    report = json.loads(out)
    assert report["run"]["ledger"]["chain"] == {"ok": False, "reason": report["run"]["ledger"]["chain"]["reason"],
                                                "overridden": True}
    assert sha256_file(path) == tampered  # read-only: no migration, no checkpoint, nothing written
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
