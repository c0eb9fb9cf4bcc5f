"""The README and docs/ say only what works: every command in a `sh` or `console` block runs, as a
reader would run it, with the exit code the page states (`# exit N`, else 0); a `console` block's
output is what the command prints. The commands run in a fresh folder holding a copy of fixtures/,
a few real face photos in photos/, a git repository at path/to/repo and an S3 bucket `uploads`
(a local moto server), with bipacheck installed by the README's own `pip install` line into a
virtual environment (no index: the dependencies are this interpreter's)."""

from __future__ import annotations

import doctest
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest

from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from tests.conftest import bucket_client
from tests.images import encode, rgb, side_by_side

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
EXPECTED_EXIT = re.compile(r"#\s*exits? (\d)\b")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)


@dataclass
class Command:
    line: str
    exit: int
    output: list[str] | None = None  # a console block's expected output
    where: str = ""


@dataclass
class Page:
    path: Path
    commands: list[Command] = field(default_factory=list)
    installs: list[str] = field(default_factory=list)  # `pip install` lines: run once, in the venv fixture
    tests: list[str] = field(default_factory=list)  # the README's test command: .ci/run runs it


def read_page(path: Path) -> Page:
    page = Page(path)
    text = path.read_text("utf-8")
    for match in FENCE.finditer(text):
        lang, body = match.group(1), match.group(2)
        where = f"{path.relative_to(REPO)}:{text[: match.start()].count(chr(10)) + 1}"
        if lang == "sh":
            lines = _joined(body.splitlines())
            if any("pytest" in line for line in lines):
                page.tests += lines
                continue
            for line in lines:
                if line.startswith("pip install"):
                    page.installs.append(line)
                else:
                    page.commands.append(Command(line, _exit(line), where=where))
        elif lang == "console":
            for chunk in re.split(r"^\$ ", body, flags=re.M)[1:]:
                line, *output = chunk.rstrip("\n").split("\n")
                page.commands.append(Command(line, _exit(line), output, where))
    return page


def _joined(lines: list[str]) -> list[str]:
    out, pending = [], ""
    for line in lines:
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        line = pending + line
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(line)
    return out


def _exit(line: str) -> int:
    found = EXPECTED_EXIT.search(line)
    return int(found.group(1)) if found else 0


RUNNABLE = [p for p in PAGES if read_page(p).commands]


# -- the README's shape -------------------------------------------------------------------------

def test_readme_is_short_and_starts_with_install_and_the_demo():
    lines = README.read_text("utf-8").splitlines()
    assert len(lines) <= 300
    quick = read_page(README)
    assert quick.installs[0] == 'pip install ".[fast]"'
    assert quick.commands[0].line.startswith("bipacheck audit fixtures/demo/photos")  # the second command
    assert quick.tests == ['pip install -e ".[test]"', "python -m pytest -q"]


def test_ci_runs_exactly_the_readmes_test_command():
    ci = (REPO / ".ci" / "run").read_text("utf-8").splitlines()
    tests = read_page(README).tests
    position = ci.index(tests[0])
    assert ci[position: position + len(tests)] == tests and ci[-1] == tests[-1]


def test_every_command_is_documented():
    text = (REPO / "docs" / "commands.md").read_text("utf-8")

    def walk(group: click.Group, prefix: str):
        for name, command in group.commands.items():
            yield f"{prefix} {name}".strip()
            if isinstance(command, click.Group):
                yield from walk(command, f"{prefix} {name}")

    for path in walk(cli, ""):
        words = path.split()
        if len(words) == 1:
            assert f"`bipacheck {words[0]}" in text, path
        else:
            # subcommands are listed in their group's row, e.g. `bipacheck ledger ...` | `init`, `import`
            row = next(line for line in text.splitlines() if f"`bipacheck {words[0]}" in line and "|" in line)
            assert words[-1] in row, path


def test_every_page_is_in_the_index():
    index = (REPO / "docs" / "index.md").read_text("utf-8")
    for page in PAGES[1:]:
        assert page.name == "index.md" or f"]({page.name})" in index, page.name


def test_every_relative_link_resolves():
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text("utf-8")):
            assert "://" in target or (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_api_page_runs(monkeypatch, centerface):
    monkeypatch.chdir(REPO)
    page = REPO / "docs" / "api.md"
    test = doctest.DocTestParser().get_doctest(page.read_text("utf-8"), {}, "docs/api.md", str(page), 0)
    assert test.examples, "the API page has runnable examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0


def test_the_demo_ledger_holds_exactly_its_csv_files(tmp_path):
    demo = REPO / "fixtures" / "demo"
    with Ledger.create(tmp_path / "fresh.db") as fresh:
        for part in sorted((demo / "ledger").glob("*.csv")):
            fresh.import_file(part)
        expected = {kind: _rows(fresh, kind) for kind in ("subjects", "consents", "links", "processing")}
    copy = tmp_path / "demo.db"
    shutil.copy(demo / "consent.db", copy)
    with Ledger.open(copy, read_only=True) as shipped:
        assert shipped.verify().ok
        assert {kind: _rows(shipped, kind) for kind in expected} == expected
    # a rollback journal: reading the demo leaves nothing beside it in a checkout
    assert sqlite3.connect(copy).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def _rows(ledger: Ledger, kind: str) -> str:
    import io

    out = io.StringIO()
    ledger.export(kind, out, "csv")
    return out.getvalue()


# -- every command runs -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """bipacheck installed from a copy of this checkout by the pages' own `pip install` lines."""
    root = tmp_path_factory.mktemp("install")
    checkout = root / "checkout"
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, checkout / name)
    shutil.copytree(REPO / "bipacheck", checkout / "bipacheck", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root / "venv")], check=True)
    env = _env(root / "venv") | {"PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0"}  # "0" turns isolation off
    for line in dict.fromkeys(line for page in PAGES for line in read_page(page).installs):
        done = subprocess.run(line, shell=True, cwd=checkout, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    return root / "venv"


def _env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the installed copy, not this checkout
    return env | {"PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}", "COLUMNS": "100"}


@pytest.fixture(scope="module")
def uploads(endpoint) -> str:
    client = bucket_client(endpoint, "uploads")
    client.put_object(Bucket="uploads", Key="2026/portrait.jpg", Body=encode(rgb("astronaut"), "JPEG"))
    client.put_object(Bucket="uploads", Key="2026/team.jpg", Body=encode(side_by_side("astronaut", "camera"), "JPEG"))
    return endpoint


def _sandbox(root: Path) -> None:
    shutil.copytree(REPO / "fixtures", root / "fixtures", ignore=shutil.ignore_patterns("*.cache.db*", "consent.db-*"))
    photos = root / "photos"
    photos.mkdir()
    (photos / "portrait.jpg").write_bytes(encode(rgb("astronaut"), "JPEG", quality=90))
    (photos / "cameraman.png").write_bytes(encode(rgb("camera")))
    (photos / "team.jpg").write_bytes(encode(side_by_side("astronaut", "camera"), "JPEG", quality=90))
    repo = root / "path" / "to" / "repo"
    (repo / "photos").mkdir(parents=True)
    (repo / "photos" / "coffee.jpg").write_bytes(encode(rgb("coffee"), "JPEG"))
    git = ["git", "-C", str(repo), "-c", "user.name=docs", "-c", "user.email=docs@example.org"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a photo"], check=True)


@pytest.mark.parametrize("path", RUNNABLE, ids=[str(p.relative_to(REPO)) for p in RUNNABLE])
def test_every_command_on_the_page_works(path, tmp_path, venv, uploads, model_dir):
    page = read_page(path)
    _sandbox(tmp_path)
    results = tmp_path.parent / f"{tmp_path.name}-results"
    results.mkdir()
    script = [f"cd {_quote(tmp_path)}"]
    for number, command in enumerate(page.commands):
        script.append(f"{{ {command.line}\n}} > {_quote(results / f'{number}.out')} 2>&1; "
                      f"echo $? > {_quote(results / f'{number}.rc')}")
    env = _env(venv) | {"AWS_ENDPOINT_URL": uploads}
    subprocess.run(["bash", "-c", "\n".join(script)], env=env, check=True, timeout=1800)
    for number, command in enumerate(page.commands):
        output = (results / f"{number}.out").read_text("utf-8")
        printed = output.rstrip("\n").split("\n") if output.strip() else []
        code = int((results / f"{number}.rc").read_text())
        assert code == command.exit, (f"{command.where}: `{command.line}` exited {code}, the page says "
                                      f"{command.exit}\n{output}")
        assert "Traceback" not in output, f"{command.where}: `{command.line}`\n{output}"
        if command.output is not None:
            assert printed == command.output, f"{command.where}: `{command.line}` printed\n{output}"


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"
