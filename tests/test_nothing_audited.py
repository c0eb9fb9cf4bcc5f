"""An audit of nothing is one answer everywhere: exit 2 naming what was not found (a missing path, an
empty folder or prefix, a missing bucket, an unreachable store, a listing of sidecars only), from
audit, scan and check on the command line and from the Python API, never a pass (0) or a finding (3)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import bipacheck
from bipacheck.cli import cli
from bipacheck.errors import ConfigError
from bipacheck.ledger import Ledger
from tests.conftest import bucket_client, fill_prefix
from tests.images import encode, rgb
from tests.requirements import require_module

pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator

XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>'


@pytest.fixture
def ledger(tmp_path):
    path = tmp_path / "consent.db"
    Ledger.create(path).close()
    return path


def cli_run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def local_cases(tmp_path) -> dict[str, tuple[str, str]]:
    """case -> (source, words the message must hold)."""
    (tmp_path / "empty").mkdir()
    sidecars = tmp_path / "sidecars"
    sidecars.mkdir()
    (sidecars / "a.jpg.xmp").write_bytes(XMP)  # the photo it describes is not there
    (sidecars / "b.xmp").write_bytes(XMP)
    return {"missing": (str(tmp_path / "no-such-folder"), "does not exist"),
            "empty": (str(tmp_path / "empty"), "listed no files"),
            "sidecars only": (str(sidecars), "only sidecar")}


@pytest.mark.parametrize("case", ["missing", "empty", "sidecars only"])
@pytest.mark.parametrize("command", ["audit", "scan"])
def test_a_local_source_with_nothing_to_audit_exits_2_naming_it(tmp_path, ledger, case, command, centerface):
    source, words = local_cases(tmp_path)[case]
    extra = ["--ledger", ledger] if command == "audit" else []
    code, out = cli_run(command, source, *extra, "-q")
    assert code == 2, out
    assert source in out and words in out


@pytest.mark.parametrize("case", ["missing", "empty", "sidecars only"])
def test_the_python_api_gives_the_same_answer(tmp_path, ledger, case, centerface):
    source, words = local_cases(tmp_path)[case]
    for call in (lambda: bipacheck.audit(source, ledger=str(ledger), quiet=True),
                 lambda: bipacheck.scan(source, quiet=True)):
        with pytest.raises(ConfigError, match=words):
            call()


def test_one_missing_source_among_good_ones_is_still_an_error(tmp_path, ledger, centerface):
    good = tmp_path / "good"
    good.mkdir()
    (good / "scene.png").write_bytes(encode(rgb("coffee")[::4, ::4]))
    code, out = cli_run("audit", good, tmp_path / "typo", "--ledger", ledger, "-q")
    assert code == 2 and "typo" in out and "does not exist" in out


def test_check_names_a_missing_file_and_still_passes_a_lone_sidecar(tmp_path, ledger, monkeypatch, centerface):
    (tmp_path / "photo.jpg.xmp").write_bytes(XMP)
    monkeypatch.chdir(tmp_path)
    code, out = cli_run("check", "--ledger", ledger, "--", "photo.jpg.xmp")
    assert code == 0, out  # a commit that only edits a sidecar has nothing to block
    code, out = cli_run("check", "--ledger", ledger, "--", "photo.jpg.xmp", "gone.jpg")
    assert code == 2 and "gone.jpg" in out and "does not exist" in out
    with pytest.raises(ConfigError, match="gone.jpg"):
        bipacheck.check(["gone.jpg"], ledger=str(ledger))


# -- buckets: a real S3 API (moto) -----------------------------------------------------------------

@pytest.fixture(scope="module")
def s3(endpoint):
    require_module("s3fs")
    return bucket_client(endpoint, "nothing-here")


@pytest.mark.parametrize("command", ["audit", "scan"])
def test_s3_missing_prefix_missing_bucket_and_sidecars_only_exit_2(s3, endpoint, request, ledger, command,
                                                                   centerface):
    prefix = fill_prefix(s3, "nothing-here", request, {"sidecars/a.xmp": XMP, "photos/a.png": encode(rgb("coffee")[::4, ::4])})
    extra = ["--ledger", ledger] if command == "audit" else []
    cases = {f"s3://nothing-here/{prefix}/typo": "no such bucket or prefix",
             "s3://no-such-bucket-anywhere/photos": "could not be listed",
             f"s3://nothing-here/{prefix}/sidecars": "only sidecar"}
    for source, words in cases.items():
        code, out = cli_run(command, source, "--endpoint-url", endpoint, *extra, "-q")
        assert code == 2, (source, out)
        assert source in out and words in out, out
    code, out = cli_run(command, f"s3://nothing-here/{prefix}/photos", "--endpoint-url", endpoint, *extra, "-q")
    assert code == 0, out  # the same bucket, with a photo: audited


def test_an_unreachable_store_exits_2(ledger, centerface, monkeypatch):
    require_module("s3fs")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code, out = cli_run("audit", "s3://bucket/photos", "--endpoint-url", "http://127.0.0.1:9", "--ledger", ledger,
                        "-q")
    assert code == 2 and "s3://bucket/photos" in out and "could not be listed" in out, out
