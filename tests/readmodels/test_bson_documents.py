"""The BSON encoding of read-model documents: reversible, and safe for MongoDB and FerretDB v1."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import bson
import pytest
from bson.codec_options import CodecOptions
from hypothesis import given
from hypothesis import strategies as st

from eventstore.bson_values import (
    ARRAY,
    BIG_INT,
    decode,
    decode_key,
    encode,
    encode_key,
)
from eventstore.codec import dump_json
from projections.adapters.bson_documents import from_bson, to_bson
from projections.documents import (
    PipelineEntry,
    RepoConfigDocument,
    RunDocument,
    SessionDocument,
)
from tests.readmodels.document_strategies import repo_configs, runs, sessions
from tests.strategies import json_objects, json_scalars, json_values, names

WIRE: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)
INT64 = 2**63

big_ints = st.integers(min_value=INT64, max_value=2**200) | st.integers(
    max_value=-INT64 - 1, min_value=-(2**200)
)
tricky_keys = names | st.sampled_from(["%a", "%i", "%25", "%2E", "%%", "%a%", ".%a", "$%a"])
values_with_big_ints = st.recursive(
    json_scalars | big_ints,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky_keys, inner, max_size=4),
    max_leaves=16,
)


def wire(fields: dict[str, Any]) -> dict[str, Any]:
    """What a server hands back: encoded to BSON bytes and decoded again."""
    return bson.decode(bson.encode(fields), WIRE)


def assert_storable(value: Any, *, in_array: bool = False) -> None:
    """Assert what FerretDB v1 refuses is absent: bad keys, nested arrays, big integers."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert key, "an empty key"
            assert not key.startswith("$"), key
            assert "." not in key, key
            assert "\x00" not in key, key
            assert_storable(item)
    elif isinstance(value, list):
        assert not in_array, "an array directly inside an array"
        for item in value:
            assert_storable(item, in_array=True)
    elif isinstance(value, int) and not isinstance(value, bool):
        assert -INT64 <= value < INT64


@given(st.text())
def test_keys_round_trip(key: str) -> None:
    stored = encode_key(key)
    assert decode_key(stored) == key
    assert stored not in {ARRAY, BIG_INT}


@given(st.text(), st.text())
def test_different_keys_stay_different(first: str, second: str) -> None:
    if first != second:
        assert encode_key(first) != encode_key(second)


@pytest.mark.parametrize(
    ("key", "stored"),
    [
        ("", "%"),
        ("%", "%25"),
        ("deploy.prod", "deploy%2Eprod"),
        ("$where", "%24where"),
        ("a\x00b", "a%00b"),
        ("%2E", "%252E"),
        ("%a", "%25a"),
        ("plain_name", "plain_name"),
    ],
)
def test_keys_are_escaped_as_documented(key: str, stored: str) -> None:
    assert encode_key(key) == stored
    assert decode_key(stored) == key


@pytest.mark.parametrize("stored", ["%a", "%i", "%2e", "%%", "a.b", "$x", "a\x00b", "%2", ""])
def test_strings_no_key_escapes_to_are_refused(stored: str) -> None:
    with pytest.raises(ValueError, match="not an escaped key"):
        decode_key(stored)


@given(values_with_big_ints)
def test_json_values_round_trip_through_bson(value: Any) -> None:
    stored = wire({"value": encode(value)})["value"]
    assert_storable(stored)
    assert dump_json(decode(stored)) == dump_json(value)


@given(json_values)
def test_json_values_from_the_catalog_strategies_round_trip(value: Any) -> None:
    stored = wire({"value": encode(value)})["value"]
    assert_storable(stored)
    assert dump_json(decode(stored)) == dump_json(value)


@given(json_objects)
def test_json_objects_with_users_keys_round_trip(value: dict[str, Any]) -> None:
    stored = wire(encode(value))
    assert_storable(stored)
    assert dump_json(decode(stored)) == dump_json(value)


def test_nested_arrays_are_wrapped_and_unwrapped() -> None:
    value = {"matrix": [[1, 2], [3, [4, []]]], "$set": {"a.b": [[]]}}
    stored = encode(value)
    assert stored == {
        "matrix": [{ARRAY: [1, 2]}, {ARRAY: [3, {ARRAY: [4, {ARRAY: []}]}]}],
        "%24set": {"a%2Eb": [{ARRAY: []}]},
    }
    assert decode(stored) == value


def test_a_users_key_that_looks_like_a_wrapper_is_kept_as_a_key() -> None:
    value = {"%a": [1], "%i": "2", "x": [{"%a": [[3]]}]}
    assert decode(wire(encode(value))) == value


# -- whole documents -------------------------------------------------------------------


@given(st.one_of(sessions, repo_configs, runs))
def test_documents_round_trip_through_bson(
    document: SessionDocument | RepoConfigDocument | RunDocument,
) -> None:
    stored = wire(to_bson(document))
    assert_storable(stored)
    assert from_bson(type(document), stored) == document


def test_times_stay_bson_dates_and_ids_strings() -> None:
    moment = datetime(2026, 1, 15, 9, 30, 0, 123000, tzinfo=UTC)
    run_id = UUID("0b7d7a56-3c1e-4f43-9a57-6a1f0c0d2e11")
    entry = PipelineEntry(
        pipeline_name="deploy.prod",
        pipeline_file_name="deploy.yml",
        pipeline_config={},
        job_run_history=(run_id,),
        active=True,
        running=False,
        last_commit_hash="9f2c1e7",
        validated_at=moment,
        running_runs=(),
    )
    fields = to_bson(
        RepoConfigDocument(
            repo_name="api", repo_url="https://git.example.com/api.git", branch="main", pipelines={}
        )
    )
    assert fields == {
        "repo_name": "api",
        "repo_url": "https://git.example.com/api.git",
        "branch": "main",
        "pipelines": {},
    }
    stored = to_bson(entry)
    assert stored["validated_at"] == moment
    assert stored["job_run_history"] == [str(run_id)]
