"""The operator attestation: parsed strictly from the config table, hashed into the report."""

from __future__ import annotations

import tomllib

import pytest

from bipacheck.options import find_config
from bipacheck.errors import ConfigError
from bipacheck.policy import attestation
from tests.conftest import ATTESTATION, write_attestation


def table(text: str = ATTESTATION) -> dict:
    return tomllib.loads(text)["tool"]["bipacheck"]["org"]


def test_a_complete_table_parses_and_its_hash_pins_the_statement(tmp_path):
    write_attestation(tmp_path)
    path, config = find_config(tmp_path)
    statement = attestation.parse(config["org"], str(path))
    assert statement.processing_regions == ("US-IL",) and statement.recipients == ()
    assert statement.policy_adopted_at.isoformat() == "2020-01-01T00:00:00+00:00"
    reordered = dict(reversed(list(config["org"].items())))
    assert attestation.parse(reordered).sha256 == statement.sha256  # key order does not matter
    changed = attestation.parse({**config["org"], "sells_or_profits": True})
    assert changed.sha256 != statement.sha256
    facts = attestation.run_facts(statement)
    assert facts["sha256"] == statement.sha256 and facts["statement"]["entity"] == "Test Operator"
    assert facts["source"] == str(path)
    assert attestation.run_facts(None) == {"source": None, "sha256": None}


def test_recipients_default_to_the_disclose_scope_and_keep_consideration():
    statement = attestation.parse({"recipients": ["plain", {"name": "paid", "consideration": True,
                                                            "scope": "disclose:paid-co"}]})
    assert statement.recipient("plain").scope == "disclose:plain"
    assert statement.recipient("paid").consideration and statement.recipient("paid").scope == "disclose:paid-co"
    assert attestation.parse({}).recipients is None  # not attested, unlike an empty list


@pytest.mark.parametrize("values, message", [
    ({"colour": "blue"}, "unknown key"),
    ({"processing_regions": ["Illinois"]}, "not a code like US-IL"),
    ({"exemptions": ["friends_and_family"]}, "not one of"),
    ({"sells_or_profits": "no"}, "true or false"),
    ({"policy_adopted_at": "2024-01-01T10:00"}, "time zone"),
    ({"recipients": [{"name": "x", "pays": True}]}, "unknown key"),
])
def test_bad_values_are_configuration_errors_naming_the_key(values, message):
    with pytest.raises(ConfigError, match=message):
        attestation.parse(values)
