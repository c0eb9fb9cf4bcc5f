"""Shared fixtures: real photos from scikit-image, the real detector weights the package ships."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.requirements import require_module



@pytest.fixture(scope="session", autouse=True)
def model_dir(tmp_path_factory) -> Path:
    """An empty model directory: every detector runs on the weights that ship with the package (a
    developer's own imported variants never leak into the tests)."""
    path = tmp_path_factory.mktemp("models")
    os.environ["BIPACHECK_MODEL_DIR"] = str(path)
    # the scan cache's row key lives outside the cache file: here, outside the developer's home too
    os.environ["BIPACHECK_CACHE_KEY_FILE"] = str(tmp_path_factory.mktemp("cache-key") / "cache.key")
    return path


@pytest.fixture(scope="session")
def centerface(model_dir):
    from bipacheck.detect.detectors import create_detector

    return create_detector("centerface")


@pytest.fixture(scope="session")
def yunet(model_dir):
    from bipacheck.detect.detectors import create_detector

    return create_detector("yunet")


@pytest.fixture(scope="session")
def cascade(yunet, centerface):
    from bipacheck.detect.detectors import create_detector

    return create_detector("cascade")


@pytest.fixture(scope="session")
def endpoint():
    """A real S3 API on 127.0.0.1 (moto's server, the pattern s3fs's own tests use); its URL."""
    moto_server = require_module("moto.server")
    with pytest.MonkeyPatch.context() as mp:
        # Dummy credentials: moto accepts anything, and nothing must reach real AWS. Worker
        # processes and dask workers inherit them from the environment.
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.delenv("AWS_PROFILE", raising=False)
        server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def bucket_client(endpoint: str, bucket: str):
    """A boto3 client on the local S3 server, with `bucket` created (for module-scoped fixtures)."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return client


def fill_prefix(client, bucket: str, request, objects: dict[str, bytes]) -> str:
    """Put `objects` under a prefix named after the running test; the prefix."""
    name = request.node.name.replace("[", "_").replace("]", "")
    for key, body in objects.items():
        client.put_object(Bucket=bucket, Key=f"{name}/{key}", Body=body)
    return name


# A complete operator attestation ([tool.bipacheck.org]): processing in Illinois for photo tagging, a
# public policy since 2020, nothing sold or sent anywhere. Tests that are not about the attestation run from a
# folder holding it, so BIPA's reach is known and the operator duties are attested.
ATTESTATION = """
[tool.bipacheck.org]
entity = "Test Operator"
attested_by = "Counsel"
attested_at = 2024-01-01
policy_url = "https://operator.example/biometric-policy"
policy_adopted_at = 2020-01-01
retention_schedule = "3 years after last interaction"
sells_or_profits = false
security_standard = "SOC 2"
processing_regions = ["US-IL"]
processing_purposes = ["tagging"]
recipients = []
"""


def write_attestation(folder: Path, extra: str = "", text: str = ATTESTATION) -> Path:
    (folder / ".bipacheck.toml").write_text(text + extra)
    return folder


@pytest.fixture
def operator(tmp_path, monkeypatch) -> Path:
    """Run from a folder whose config holds the operator's attestation."""
    folder = tmp_path / "operator"
    folder.mkdir(exist_ok=True)
    write_attestation(folder)
    monkeypatch.chdir(folder)
    return folder
