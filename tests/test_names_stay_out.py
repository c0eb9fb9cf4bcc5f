"""Without --show-names, names from face tags appear in no output: findings, warnings, any format."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bipacheck.cli import cli
from tests.exits import expected_exit, expected_scan_exit
from tests.test_audit_tags import ASTRONAUT_TAG, photo_with_tags
from tests.test_metadata_support import mwg_face

NAME = "Quinella Vantongeren"


def test_a_warning_about_a_named_region_does_not_carry_the_name(tmp_path, centerface):
    folder = tmp_path / "photos"
    folder.mkdir()
    outside = mwg_face(cx=1.7, cy=1.7, w=0.1, h=0.1, name=NAME)  # lies outside the image: a warning
    (folder / "tagged.jpg").write_bytes(photo_with_tags(mwg_face(**ASTRONAUT_TAG, name=NAME), outside))
    outputs, codes = {}, {}
    for command, fmt in (("scan", "json"), ("audit", "json"), ("audit", "sarif"), ("audit", "table")):
        result = CliRunner().invoke(cli, [command, str(folder), "--format", fmt])
        outputs[command, fmt], codes[command, fmt] = result.output, result.exit_code
    assert codes["scan", "json"] == expected_scan_exit(json.loads(outputs["scan", "json"]))
    audited = expected_exit(json.loads(outputs["audit", "json"]))
    assert codes["audit", "json"] == codes["audit", "sarif"] == codes["audit", "table"] == audited
    assert "lies outside the image" in outputs["scan", "json"]  # the warning itself is still there
    for key, text in outputs.items():
        assert "Quinella" not in text and "Vantongeren" not in text, key
    shown = CliRunner().invoke(cli, ["audit", str(folder), "--format", "json", "--show-names"]).output
    assert NAME in shown  # the operator who asks for names gets them
