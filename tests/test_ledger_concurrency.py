"""Real processes: two concurrent writers lose nothing; an import killed mid-way leaves no trace."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bipacheck.ledger import Ledger

REPO = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}

WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from bipacheck.ledger import Ledger

    db, tag, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    ledger = Ledger(db, actor=tag)
    print("ready", flush=True)
    while not go.exists():  # start together so the two writers really overlap
        time.sleep(0.005)
    for i in range(100):
        ledger.add_subject(f"{tag}-{i:03}", jurisdictions=["US-IL"])
        time.sleep(0.003)  # a real client does some work between writes
    ledger.close()
""")

# Blocks inside import_file's transaction after the first chunk is written, reporting how many
# subjects its own (uncommitted) view holds, so the parent can kill it mid-write.
KILLED_IMPORT = textwrap.dedent("""
    import os, sys, time
    from bipacheck.ledger import Ledger

    db, source, marker = sys.argv[1:4]
    ledger = Ledger(db, actor="doomed")

    def progress(done, total):
        seen = ledger.db.execute("SELECT count(*) FROM subjects").fetchone()[0]
        with open(marker + ".tmp", "w") as fh:
            fh.write(f"{done} {total} {seen}")
        os.replace(marker + ".tmp", marker)
        while True:
            time.sleep(1)

    ledger.import_file(source, progress=progress)
""")


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the child process")
        time.sleep(0.01)


def test_two_writers_at_once_lose_nothing(tmp_path):
    db, go = tmp_path / "ledger.db", tmp_path / "go"
    Ledger.create(db).close()
    children = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), tag, str(go)],
                                 env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
                for tag in ("alpha", "beta")]
    for child in children:
        assert child.stdout.readline().strip() == "ready"
    go.touch()
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err

    with Ledger(db) as ledger:
        ids = {s.subject_id for s in ledger.subjects()}
        assert ids == {f"{t}-{i:03}" for t in ("alpha", "beta") for i in range(100)}
        history = ledger.history()
        assert [e.seq for e in history] == list(range(1, 202))  # init + 200, no gaps
        # The writers took turns, so each really waited on the other's lock mid-stream.
        actors = [e.actor for e in history[1:]]
        assert sum(a != b for a, b in zip(actors, actors[1:])) > 2
        assert ledger.verify().ok


def test_an_import_killed_mid_way_leaves_the_ledger_as_before(tmp_path):
    db, source, marker = tmp_path / "ledger.db", tmp_path / "big.csv", tmp_path / "marker"
    with Ledger.create(db) as ledger:
        ledger.add_subject("existing", "Before the import")
        before = (ledger.file_sha256(), ledger.head())
    rows = "".join(f"s{i:05},Person {i},US-IL,2024-01-01\n" for i in range(3000))
    source.write_text("subject_id,display_name,jurisdictions,last_interaction_at\n" + rows)

    child = subprocess.Popen([sys.executable, "-c", KILLED_IMPORT, str(db), str(source),
                              str(marker)], env=ENV, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: marker.exists() or child.poll() is not None)
        assert child.poll() is None, child.stderr.read()
        done, total, seen = map(int, marker.read_text().split())
        assert 0 < done < total and seen == 1 + done  # really mid-write when killed
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    with Ledger(db) as ledger:
        assert [s.subject_id for s in ledger.subjects()] == ["existing"]
        assert (ledger.file_sha256(), ledger.head()) == before
        assert ledger.verify().ok
        # The dead process left no lock behind: the same import now goes through whole.
        assert ledger.import_file(source).added == 3000
        assert ledger.verify().ok


def test_concurrent_imports_of_the_same_file_apply_it_once(tmp_path):
    writers = 3
    db, source = tmp_path / "ledger.db", tmp_path / "subjects.csv"
    Ledger.create(db).close()
    source.write_text("subject_id,display_name\n" + "".join(f"p{i},P{i}\n" for i in range(300)))
    script = ("import sys; from bipacheck.ledger import Ledger; "
              "r = Ledger(sys.argv[1]).import_file(sys.argv[2]); print(r.added)")
    children = [subprocess.Popen([sys.executable, "-c", script, str(db), str(source)], env=ENV,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(writers)]
    added = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        added.append(int(out))
    assert sorted(added) == [0] * (writers - 1) + [300]  # one applied it, the rest were no-ops
    with Ledger(db) as ledger:
        assert ledger.head()[0] == 301 and ledger.verify().ok
