"""`bipacheck models`: list, import, verify, and the download path against a local HTTP server."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest
from click.testing import CliRunner

from bipacheck.cli import cli
from bipacheck.detect import weights
from bipacheck.detect.weights import ModelFile
from bipacheck.errors import ConfigError


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["models", *map(str, args)])
    return result.exit_code, result.output


def test_list_import_verify(tmp_path, monkeypatch, model_dir):
    monkeypatch.setenv("BIPACHECK_MODEL_DIR", str(tmp_path / "fresh"))
    code, out = run("list")
    assert code == 0 and "centerface: not installed" in out and "09189deaaf86" in out and "MIT" in out
    code, out = run("verify", "centerface")
    assert code == 1 and "bipacheck models pull centerface" in out
    code, out = run("import", "centerface", model_dir / "centerface.onnx")
    assert code == 0 and "installed" in out
    assert run("verify", "centerface")[0] == 0
    code, out = run("list")
    assert "centerface: installed" in out
    bogus = tmp_path / "bogus.onnx"
    bogus.write_bytes(b"not a model")
    code, out = run("import", "yunet", bogus)
    assert code == 2 and "not a known yunet model" in out


@pytest.fixture
def http_server(tmp_path):
    """Serves tmp_path/www on 127.0.0.1 (the only network a test may use)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_url_download_is_verified_before_install(tmp_path, monkeypatch, http_server, model_dir):
    root, base = http_server
    monkeypatch.setenv("BIPACHECK_MODEL_DIR", str(tmp_path / "dl"))
    good = (model_dir / "centerface.onnx").read_bytes()
    (root / "model.onnx").write_bytes(good)
    (root / "tampered.onnx").write_bytes(good[:-10] + b"0123456789")
    variant = weights.spec("centerface").files[0]
    ok = ModelFile(variant.filename, variant.sha256, variant.size, "MIT", "test", url=f"{base}/model.onnx")
    assert weights._pull_from_url(ok).read_bytes() == good
    (tmp_path / "dl" / variant.filename).unlink()
    bad = ModelFile(variant.filename, variant.sha256, variant.size, "MIT", "test", url=f"{base}/tampered.onnx")
    with pytest.raises(ConfigError, match="SHA-256"):
        weights._pull_from_url(bad)
    assert not (tmp_path / "dl" / variant.filename).exists()  # nothing installed under the real name
    missing = ModelFile(variant.filename, variant.sha256, variant.size, "MIT", "test", url=f"{base}/nope.onnx")
    with pytest.raises(ConfigError, match="download of .* failed"):
        weights._pull_from_url(missing)
