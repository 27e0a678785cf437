"""pynamodb's `cause_response_code` raises when a call got no answer at all (a timeout): persistence reads the
error code through `errors.error_code` only, which answers None then."""

from pathlib import Path

from pynamodb.exceptions import GetError, UpdateError

from chalicelib.persistence.errors import error_code

PERSISTENCE = Path(__file__).resolve().parents[2] / "chalicelib" / "persistence"


def test_error_code_reads_dynamodbs_code_and_none_without_an_answer():
    from botocore.exceptions import ClientError, ReadTimeoutError

    refused = ClientError({"Error": {"Code": "ConditionalCheckFailedException"}}, "UpdateItem")
    assert error_code(UpdateError("failed", refused)) == "ConditionalCheckFailedException"
    assert error_code(GetError("failed", ReadTimeoutError(endpoint_url="https://dynamodb"))) is None


def test_no_module_reads_pynamodbs_cause_response_code():
    users = [
        p.name for p in PERSISTENCE.glob("*.py") if "cause_response_code" in p.read_text() and p.name != "errors.py"
    ]
    assert users == []
