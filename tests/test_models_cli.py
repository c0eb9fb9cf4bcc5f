"""`bipacheck models`: list, import, verify. The default weights ship with the package."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from bipacheck.cli import cli
from bipacheck.detect import weights


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["models", *map(str, args)])
    return result.exit_code, result.output


def test_list_and_verify_the_bundled_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("BIPACHECK_MODEL_DIR", str(tmp_path / "fresh"))
    code, out = run("list")
    assert code == 0 and f"centerface: uses {weights.BUNDLED / 'centerface.onnx'}" in out
    assert "45aa9284c1a5" in out and "MIT" in out and "(bundled)" in out
    assert "detector cascade:" in out and "weights: yunet, centerface" in out
    code, out = run("verify")
    assert code == 0 and out.count(" OK (sha256 ") == len(weights.MODELS)


def test_import_an_accepted_variant_and_verify_it(tmp_path, monkeypatch):
    monkeypatch.setenv("BIPACHECK_MODEL_DIR", str(tmp_path / "variants"))
    copy = tmp_path / "centerface.onnx"
    shutil.copy(weights.BUNDLED / "centerface.onnx", copy)
    code, out = run("import", "centerface", copy)
    assert code == 0 and "installed" in out
    assert run("verify", "centerface")[0] == 0
    assert f"centerface: uses {tmp_path / 'variants' / 'centerface.onnx'}" in run("list")[1]
    with open(tmp_path / "variants" / "centerface.onnx", "r+b") as fh:
        fh.seek(1000)
        fh.write(b"tampered")
    code, out = run("verify", "centerface")
    assert code == 1 and "corrupt or was replaced" in out
    bogus = tmp_path / "bogus.onnx"
    bogus.write_bytes(b"not a model")
    code, out = run("import", "yunet", bogus)
    assert code == 2 and "not a known yunet model" in out
    assert run("pull", "centerface")[0] == 2  # there is nothing to download any more


def test_verify_tells_a_missing_optional_variant_from_a_broken_one(tmp_path, monkeypatch):
    monkeypatch.setenv("BIPACHECK_MODEL_DIR", str(tmp_path / "variants"))
    code, out = run("verify", "yunet")
    assert code == 0 and "optional yunet_s_dynamic.onnx: not imported" in out
    (tmp_path / "variants").mkdir()
    (tmp_path / "variants" / "yunet_s_dynamic.onnx").write_bytes(b"half a download")
    code, out = run("verify", "yunet")
    assert code == 1 and "BROKEN" in out and "yunet_s_dynamic.onnx" in out
