"""What S3 checks before it stores or shows anything, which moto does not: the local AWS's S3 answers as S3 does.

moto's server stores whatever it is sent: an unsigned PUT of an HTML file under `media/` was then served as
text/html from the local AWS, and a form on any website could post one, since moto ignores the POST policy.
This layer, in front of moto, refuses like S3 (same status codes and XML errors):

- A request that carries credentials (an `Authorization` header or a presigned URL's `X-Amz-Signature`) must be
  signed with SigV4 by the local stack's credentials; the signature is recomputed with botocore's signer from
  what the request says it signed (the headers it lists, the payload hash it declares), every `x-amz-*` header
  must be among them, and a declared SHA-256 of the payload must be the body's. moto takes any `Authorization`
  header as the account's owner, so without this a made-up one could also read every object.
- Without credentials only reads (GET, HEAD) pass, which moto answers from the bucket policy (`media/` is
  public); a browser-form POST to a bucket must carry a POST policy whose signature verifies and whose
  conditions all hold, as S3 enforces them (expiration, bucket, key, Content-Type, content-length-range against
  the file's actual size, every form field covered). moto gets the form rebuilt from what was checked: fields
  after the file, which S3 ignores but moto would apply, are dropped.
- S3 answers are sent with `X-Content-Type-Options: nosniff` and a sandbox CSP, as the media distribution's
  response headers policy adds them deployed (deploy/template.py): a published file is never run as a page.
- moto ignores `x-amz-copy-source-if-match` (it copied a file re-posted during the API's check); `copy_refusal`
  answers such a copy 412 when the source changed. The local AWS calls it under the lock every request takes,
  so nothing changes between the check and the copy.

Requests of other services (DynamoDB's carry `X-Amz-Target`; signed ones name their service) pass untouched,
except moto's own `/moto-api/` endpoints, which refuse to change anything for a page of a website (an `Origin`
header): a form posted from any site could otherwise reset the local data.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import io
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

# The local stack's credentials and region (devstack/stack.py LocalStack.environment hands them to every client).
ACCESS_KEY_ID = "local"
SECRET_ACCESS_KEY = "local"
REGION = "us-east-1"
# As the media distribution's response headers policy (deploy/template.py, MediaResponseHeadersPolicy).
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; sandbox"),
)
MAX_SKEW_SECONDS = 15 * 60  # S3's RequestTimeTooSkewed
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600  # X-Amz-Expires at most a week
MAX_BODY_BYTES = 64 * 1024 * 1024  # the app's files are 5 MB at most; more is refused rather than held in memory
MAX_FORM_FIELD_BYTES = 1024 * 1024
UNSIGNED_PAYLOADS = frozenset({"UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"})
SIGNED_CHUNKS = frozenset({"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"})
# Form fields a POST policy need not mention (S3's rule; x-ignore-* too).
UNCOVERED_FIELDS = frozenset({"file", "policy", "x-amz-signature"})
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)
AMZ_DATE = "%Y%m%dT%H%M%SZ"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class S3Error(Exception):
    """An answer in S3's words: status, code, message and the extra elements S3 adds to that error."""

    def __init__(self, status: str, code: str, message: str, **extra: str | int) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self, resource: str = "") -> bytes:
        elements = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in self.extra.items())
        if resource:
            elements += f"<Resource>{escape(resource)}</Resource>"
        request_id = secrets.token_hex(8).upper()
        host_id = base64.b64encode(secrets.token_bytes(48)).decode()
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>{elements}"
            f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
        ).encode()

    def answer(self, start_response: StartResponse, resource: str = "", head: bool = False) -> list[bytes]:
        body = self.body(resource)
        start_response(
            self.status,
            [("Content-Type", "application/xml"), ("Content-Length", str(len(body))), *SECURITY_HEADERS],
        )
        return [b""] if head else [body]


def access_denied(message: str = "Access Denied", **extra: str | int) -> S3Error:
    return S3Error("403 Forbidden", "AccessDenied", message, **extra)


def _invalid_argument(message: str, **extra: str | int) -> S3Error:
    return S3Error("400 Bad Request", "InvalidArgument", message, **extra)


def is_s3(environ: Environ) -> bool:
    """Whether moto will take the request for S3: no X-Amz-Target, not its own API, and either unsigned (moto's
    default service) or signed for s3 (the credential scope names the service, as moto reads it)."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        return False
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api") or path == "/favicon.ico":
        return False
    auth = environ.get("HTTP_AUTHORIZATION")
    if not auth:
        return True
    try:
        _, _, _, service, _ = auth.split(",")[0].split()[1].split("/")
    except (ValueError, IndexError):
        return True  # unreadable: moto falls back to S3
    return service.lower() == "s3"


def read_body(environ: Environ, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request's body, read whole and put back as a plain stream (chunked transfer already undone)."""
    length = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if length.isdigit():
        if int(length) > limit:
            raise S3Error(
                "400 Bad Request",
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                ProposedSize=int(length),
                MaxSizeAllowed=limit,
            )
        body: bytes = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise S3Error("400 Bad Request", "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("wsgi.input_terminated", None)
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


# --- SigV4 ---------------------------------------------------------------------------------------------------


class _Recomputed(SigV4Auth):
    """botocore's SigV4 signer, fed what the request says it signed instead of choosing the headers itself."""

    def __init__(self, service: str, region: str, payload: str) -> None:
        super().__init__(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), service, region)
        self.declared_payload = payload

    def headers_to_sign(self, request: AWSRequest) -> Any:
        return request.headers  # holds exactly the signed headers

    def payload(self, request: AWSRequest) -> str:
        return self.declared_payload

    def _normalize_url_path(self, path: str) -> str:
        return path  # S3's canonical path is the encoded path itself (no dot-segment removal)


def _timestamp(value: str) -> datetime:
    return datetime.strptime(value, AMZ_DATE).replace(tzinfo=UTC)


def _header(environ: Environ, name: str) -> str | None:
    key = name.upper().replace("-", "_")
    value = environ.get(key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}")
    return None if value is None else str(value)


def _canonical_path(environ: Environ) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", ""))
    # Each character once encoded, whatever the client left unencoded (S3 signs the URI-encoded key).
    return quote(unquote(raw.split("?", 1)[0]), safe="/~")


def _query(environ: Environ) -> list[tuple[str, str]]:
    return [
        (unquote(k), unquote(v))
        for k, _, v in (p.partition("=") for p in environ.get("QUERY_STRING", "").split("&") if p)
    ]


def _scope(credential: str, *, malformed: Callable[..., S3Error]) -> tuple[str, str, str]:
    """(date, region, service) of a credential `key/date/region/service/aws4_request` of the local stack."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise malformed('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".')
    key, date, region, service, _ = parts
    if key != ACCESS_KEY_ID:
        raise S3Error(
            "403 Forbidden",
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            AWSAccessKeyId=key,
        )
    if region != REGION:
        raise malformed(f"the region '{region}' is wrong; expecting '{REGION}'", Region=REGION)
    if service != "s3":
        raise malformed(f"the service '{service}' is wrong; expecting 's3'")
    return date, region, service


def _signature(date: str, region: str, service: str, string_to_sign: str) -> str:
    signer = _Recomputed(service, region, "")
    request = AWSRequest(method="GET", url="http://local/")
    request.context["timestamp"] = f"{date}T000000Z"  # only the date goes into the signing key
    return str(signer.signature(string_to_sign, request))


def _check_signature(
    environ: Environ,
    *,
    signed: list[str],
    signature: str,
    amz_date: str,
    region: str,
    service: str,
    payload: str,
    query: list[tuple[str, str]],
) -> None:
    # A header it signed but did not send counts as empty: the signature then does not match, as on S3.
    headers = {name: _header(environ, name) or "" for name in signed}
    url = f"http://{environ.get('HTTP_HOST', '')}{_canonical_path(environ)}"
    request = AWSRequest(method=environ["REQUEST_METHOD"], url=url, headers=headers, params=query)
    request.context["timestamp"] = amz_date
    signer = _Recomputed(service, region, payload)
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    expected = signer.signature(string_to_sign, request)
    if not hmac.compare_digest(expected, signature):
        raise S3Error(
            "403 Forbidden",
            "SignatureDoesNotMatch",
            SIGNATURE_MISMATCH,
            AWSAccessKeyId=ACCESS_KEY_ID,
            StringToSign=string_to_sign,
            SignatureProvided=signature,
            CanonicalRequest=canonical,
        )


def _unsigned_amz_headers(environ: Environ, signed: Iterable[str]) -> list[str]:
    names = {f"HTTP_{name.upper().replace('-', '_')}" for name in signed}
    return sorted(
        key[5:].lower().replace("_", "-") for key in environ if key.startswith("HTTP_X_AMZ_") and key not in names
    )


def verify_signed_request(environ: Environ, body: bytes, now: float) -> None:
    """Raise S3Error unless the request is SigV4-signed (header or presigned URL) by the local credentials."""
    if environ.get("HTTP_AUTHORIZATION"):
        _verify_header(environ, body, now)
    else:
        _verify_query(environ, now)


def _malformed_header(message: str, **extra: str | int) -> S3Error:
    return S3Error(
        "400 Bad Request", "AuthorizationHeaderMalformed", f"The authorization header is malformed; {message}", **extra
    )


def _verify_header(environ: Environ, body: bytes, now: float) -> None:
    algorithm, _, rest = str(environ["HTTP_AUTHORIZATION"]).strip().partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        raise S3Error(
            "400 Bad Request",
            "InvalidRequest",
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
        )
    parts = {}
    for item in rest.split(","):
        name, _, value = item.strip().partition("=")
        parts[name] = value
    credential, signed_list, signature = (parts.get(k, "") for k in ("Credential", "SignedHeaders", "Signature"))
    if not (credential and signed_list and signature):
        raise _malformed_header("it must name a Credential, SignedHeaders and a Signature.")
    date, region, service = _scope(credential, malformed=_malformed_header)
    amz_date = _header(environ, "x-amz-date") or ""
    try:
        when = _timestamp(amz_date)
    except ValueError:
        raise access_denied("AWS authentication requires a valid Date or x-amz-date header") from None
    if date != amz_date[:8]:
        raise _malformed_header(
            f'Invalid credential date "{date}". This date is not the same as X-Amz-Date: "{amz_date[:8]}".'
        )
    if abs(when.timestamp() - now) > MAX_SKEW_SECONDS:
        raise S3Error(
            "403 Forbidden",
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            RequestTime=amz_date,
            ServerTime=datetime.fromtimestamp(now, UTC).strftime(AMZ_DATE),
            MaxAllowedSkewMilliseconds=MAX_SKEW_SECONDS * 1000,
        )
    payload = _header(environ, "x-amz-content-sha256")
    if payload is None:
        raise S3Error(
            "400 Bad Request", "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"
        )
    signed = signed_list.split(";")
    if "host" not in signed:
        raise access_denied("There were headers present in the request which were not signed", HeadersNotSigned="host")
    unsigned = _unsigned_amz_headers(environ, signed)
    if unsigned:
        raise access_denied(
            "There were headers present in the request which were not signed", HeadersNotSigned=", ".join(unsigned)
        )
    _check_signature(
        environ,
        signed=signed,
        signature=signature,
        amz_date=amz_date,
        region=region,
        service=service,
        payload=payload,
        query=_query(environ),
    )
    _check_payload(payload, body)


def _check_payload(declared: str, body: bytes) -> None:
    if declared in UNSIGNED_PAYLOADS:
        return
    if declared in SIGNED_CHUNKS:
        # botocore signs the whole payload over http; a client sending signed chunks is told, not trusted.
        raise S3Error(
            "501 Not Implemented",
            "NotImplemented",
            "The local S3 does not verify chunk signatures: send the payload's SHA-256 in x-amz-content-sha256.",
        )
    computed = hashlib.sha256(body).hexdigest()
    if len(declared) != 64 or any(c not in "0123456789abcdef" for c in declared):
        raise _invalid_argument(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 "
            "value.",
            ArgumentName="x-amz-content-sha256",
            ArgumentValue=declared,
        )
    if not hmac.compare_digest(computed, declared):
        raise S3Error(
            "400 Bad Request",
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ClientComputedContentSHA256=declared,
            S3ComputedContentSHA256=computed,
        )


def _malformed_query(message: str, **extra: str | int) -> S3Error:
    return S3Error(
        "400 Bad Request",
        "AuthorizationQueryParametersError",
        f"Error parsing the X-Amz-Credential parameter; {message}",
        **extra,
    )


def _verify_query(environ: Environ, now: float) -> None:
    query = _query(environ)
    params = dict(query)
    if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        raise S3Error(
            "400 Bad Request",
            "AuthorizationQueryParametersError",
            'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
        )
    missing = [
        name
        for name in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature")
        if not params.get(name)
    ]
    if missing:
        raise S3Error(
            "400 Bad Request",
            "AuthorizationQueryParametersError",
            f"Query-string authentication version 4 requires the {', '.join(missing)} parameters.",
        )
    date, region, service = _scope(params["X-Amz-Credential"], malformed=_malformed_query)
    amz_date = params["X-Amz-Date"]
    try:
        when = _timestamp(amz_date).timestamp()
        expires = int(params["X-Amz-Expires"])
    except ValueError:
        raise S3Error(
            "400 Bad Request", "AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is not valid."
        ) from None
    if date != amz_date[:8] or not 0 <= expires <= MAX_PRESIGNED_SECONDS:
        raise S3Error(
            "400 Bad Request",
            "AuthorizationQueryParametersError",
            "X-Amz-Expires must be less than a week (in seconds) and the credential's date that of X-Amz-Date.",
        )
    if now > when + expires:
        raise access_denied(
            "Request has expired",
            Expires=datetime.fromtimestamp(when + expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            ServerTime=datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    if when > now + MAX_SKEW_SECONDS:
        raise access_denied("Request is not valid yet")
    signed = params["X-Amz-SignedHeaders"].split(";")
    unsigned = _unsigned_amz_headers(environ, signed)
    if unsigned:
        raise access_denied(
            "There were headers present in the request which were not signed", HeadersNotSigned=", ".join(unsigned)
        )
    payload = _header(environ, "x-amz-content-sha256") or "UNSIGNED-PAYLOAD"
    _check_signature(
        environ,
        signed=signed,
        signature=params["X-Amz-Signature"],
        amz_date=amz_date,
        region=region,
        service=service,
        payload=payload,
        query=[(k, v) for k, v in query if k != "X-Amz-Signature"],
    )


# --- POST policy ---------------------------------------------------------------------------------------------


class Form:
    """A browser-form POST as S3 reads it: the fields before the file, in order, and the file."""

    def __init__(self, fields: list[tuple[str, str]], filename: str, file_type: str | None, data: bytes) -> None:
        self.fields = fields
        self.filename = filename
        self.file_type = file_type
        self.data = data

    def value(self, name: str) -> str | None:
        return next((v for k, v in self.fields if k.lower() == name), None)

    def encode(self) -> tuple[str, bytes]:
        """The form as multipart/form-data again (content type, body): what was checked, and nothing else."""
        boundary = secrets.token_hex(16)
        out = io.BytesIO()
        for name, value in self.fields:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'.encode())
            out.write(value.encode() + b"\r\n")
        disposition = f'form-data; name="file"; filename="{_quoted(self.filename)}"'
        out.write(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode())
        if self.file_type:
            out.write(f"Content-Type: {self.file_type}\r\n".encode())
        out.write(b"\r\n" + self.data + f"\r\n--{boundary}--\r\n".encode())
        return f"multipart/form-data; boundary={boundary}", out.getvalue()


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def is_form_post(environ: Environ) -> bool:
    mimetype, _ = parse_options_header(environ.get("CONTENT_TYPE", ""))
    return environ.get("REQUEST_METHOD") == "POST" and mimetype == "multipart/form-data"


def parse_form(environ: Environ, body: bytes) -> Form:
    """The fields up to the file and the file; S3 ignores what follows the file."""
    malformed = S3Error(
        "400 Bad Request",
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
    )
    _, options = parse_options_header(environ.get("CONTENT_TYPE", ""))
    boundary = options.get("boundary", "")
    if not boundary:
        raise malformed
    decoder = MultipartDecoder(boundary.encode(), max_form_memory_size=MAX_FORM_FIELD_BYTES)
    fields: list[tuple[str, str]] = []
    current: tuple[str, Any] | None = None
    chunks: list[bytes] = []
    try:
        decoder.receive_data(body)
        decoder.receive_data(None)
        while True:
            event = decoder.next_event()
            if isinstance(event, (Epilogue, NeedData)):
                break
            if isinstance(event, (Field, File)):
                current, chunks = (event.name, event), []
            elif isinstance(event, Data) and current is not None:
                chunks.append(event.data)
                if event.more_data:
                    continue
                name, part = current
                data = b"".join(chunks)
                if name.lower() == "file":
                    filename = part.filename if isinstance(part, File) else ""
                    return Form(fields, filename or "", part.headers.get("Content-Type"), data)
                if any(name.lower() == seen.lower() for seen, _ in fields):
                    # S3 reads one value per field; which one moto would store is not worth guessing.
                    raise _invalid_argument(
                        f"Bucket POST may contain the field '{name}' only once.", ArgumentName=name, ArgumentValue=""
                    )
                fields.append((name, data.decode()))
                current = None
    except RequestEntityTooLarge:
        raise S3Error(
            "400 Bad Request",
            "MaxPostPreDataLengthExceeded",
            "Your POST request fields preceding the upload file were too large.",
        ) from None
    except ValueError:
        raise malformed from None
    raise _invalid_argument("POST requires exactly one file upload per request.", ArgumentName="file", ArgumentValue=0)


def _required(form: Form, name: str) -> str:
    value = form.value(name)
    if value is None:
        raise _invalid_argument(
            f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the "
            "fields.",
            ArgumentName=name,
            ArgumentValue="",
        )
    return value


def _condition_failed(condition: list[Any]) -> S3Error:
    return access_denied(f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}")


def _expiration(document: dict[str, Any]) -> float:
    value = document.get("expiration")
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise S3Error(
            "400 Bad Request", "InvalidPolicyDocument", f"Invalid Policy: Invalid 'expiration' value: '{value}'"
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def check_form(form: Form, bucket: str, now: float) -> None:
    """Raise S3Error unless the form carries a policy signed by the local credentials that the POST satisfies."""
    if form.value("policy") is None and form.value("x-amz-signature") is None:
        raise access_denied()  # an anonymous POST: the bucket grants nobody write access
    policy = _required(form, "policy")
    algorithm = _required(form, "x-amz-algorithm")
    credential = _required(form, "x-amz-credential")
    _required(form, "x-amz-date")
    signature = _required(form, "x-amz-signature")
    if algorithm != "AWS4-HMAC-SHA256":
        raise _invalid_argument(
            "Only AWS4-HMAC-SHA256 is supported.", ArgumentName="x-amz-algorithm", ArgumentValue=algorithm
        )

    def malformed(message: str, **_: str | int) -> S3Error:
        return _invalid_argument(
            f"Invalid credential: {message}", ArgumentName="x-amz-credential", ArgumentValue=credential
        )

    date, region, service = _scope(credential, malformed=malformed)
    if not hmac.compare_digest(_signature(date, region, service, policy), signature):
        raise S3Error(
            "403 Forbidden",
            "SignatureDoesNotMatch",
            SIGNATURE_MISMATCH,
            AWSAccessKeyId=ACCESS_KEY_ID,
            StringToSign=policy,
            SignatureProvided=signature,
        )
    try:
        document = json.loads(base64.b64decode(policy, validate=True))
        if not isinstance(document, dict) or not isinstance(document.get("conditions"), list):
            raise ValueError(document)
    except (ValueError, binascii.Error):
        raise S3Error("400 Bad Request", "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
    if now > _expiration(document):
        raise access_denied("Invalid according to Policy: Policy expired.")
    values = {name.lower(): value for name, value in form.fields}
    values["bucket"] = bucket  # the bucket is the one posted to, whatever a field says
    if "key" in values:
        values["key"] = values["key"].replace("${filename}", os.path.basename(form.filename))
    covered = set()
    for condition in document["conditions"]:
        covered |= _check_condition(condition, values, len(form.data))
    extra = [name for name, _ in form.fields if _must_be_covered(name) and name.lower() not in covered]
    if extra:
        raise access_denied(f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")


def _must_be_covered(name: str) -> bool:
    lower = name.lower()
    return lower not in UNCOVERED_FIELDS and not lower.startswith("x-ignore-")


def _check_condition(condition: Any, values: dict[str, str], size: int) -> set[str]:
    """Raise S3Error unless `condition` holds; returns the fields it covers."""
    if isinstance(condition, dict):
        covered = set()
        for name, expected in condition.items():
            _check_condition(["eq", f"${name}", expected], values, size)
            covered.add(name.lower())
        return covered
    if not isinstance(condition, list) or len(condition) != 3:
        raise _condition_failed(condition if isinstance(condition, list) else [condition])
    operator = str(condition[0]).lower()
    if operator == "content-length-range":
        low, high = condition[1], condition[2]
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (low, high)):
            raise _condition_failed(condition)
        if size > high:
            raise S3Error(
                "400 Bad Request",
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                ProposedSize=size,
                MaxSizeAllowed=high,
            )
        if size < low:
            raise S3Error(
                "400 Bad Request",
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                ProposedSize=size,
                MinSizeAllowed=low,
            )
        return set()
    field, expected = condition[1], condition[2]
    if operator not in ("eq", "starts-with") or not isinstance(field, str) or not field.startswith("$"):
        raise _condition_failed(condition)
    if not isinstance(expected, str):
        raise _condition_failed(condition)
    name = field[1:].lower()
    actual = values.get(name)
    if operator == "eq":
        holds = actual == expected
    elif name == "content-type":
        # A list of types (comma-separated) must all start so.
        holds = actual is not None and all(part.strip().startswith(expected) for part in actual.split(","))
    else:
        holds = (actual or "").startswith(expected) and (actual is not None or expected == "")
    if not holds:
        raise _condition_failed(condition)
    return {name}


# --- CopySourceIf* -------------------------------------------------------------------------------------------

# (ETag, Last-Modified) of the object at a copy source's path and query (as sent: URL-encoded), None if absent.
Head = Callable[[str, str], "tuple[str, datetime] | None"]


def _etags(value: str) -> set[str]:
    return {tag.strip().removeprefix("W/").strip('"') for tag in value.split(",")}


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # S3 ignores a date it cannot read


def copy_refusal(environ: Environ, head: Head) -> S3Error | None:
    """A 412 for a copy whose x-amz-copy-source-if-* conditions do not hold, as S3 evaluates them; None to let
    the copy go on (to moto, which answers a missing source itself)."""
    source = environ.get("HTTP_X_AMZ_COPY_SOURCE")
    if environ.get("REQUEST_METHOD") != "PUT" or not source:
        return None
    if_match = environ.get("HTTP_X_AMZ_COPY_SOURCE_IF_MATCH")
    if_none_match = environ.get("HTTP_X_AMZ_COPY_SOURCE_IF_NONE_MATCH")
    if_unmodified = _http_date(environ.get("HTTP_X_AMZ_COPY_SOURCE_IF_UNMODIFIED_SINCE"))
    if_modified = _http_date(environ.get("HTTP_X_AMZ_COPY_SOURCE_IF_MODIFIED_SINCE"))
    if if_match is None and if_none_match is None and if_unmodified is None and if_modified is None:
        return None
    path, _, query = str(source).partition("?")
    found = head("/" + path.lstrip("/"), query)
    if found is None:
        return None
    etag, modified = found
    etag = etag.strip('"')
    modified_seconds = calendar.timegm(modified.utctimetuple())
    failed = None
    # S3: a matching If-Match wins over If-Unmodified-Since, a differing If-None-Match over If-Modified-Since.
    if if_match is not None:
        if "*" not in _etags(if_match) and etag not in _etags(if_match):
            failed = "x-amz-copy-source-If-Match"
    elif if_unmodified is not None and modified_seconds > calendar.timegm(if_unmodified.utctimetuple()):
        failed = "x-amz-copy-source-If-Unmodified-Since"
    if failed is None and if_none_match is not None:
        if "*" in _etags(if_none_match) or etag in _etags(if_none_match):
            failed = "x-amz-copy-source-If-None-Match"
    elif failed is None and if_modified is not None and modified_seconds <= calendar.timegm(if_modified.utctimetuple()):
        failed = "x-amz-copy-source-If-Modified-Since"
    if failed is None:
        return None
    return S3Error(
        "412 Precondition Failed",
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        Condition=failed,
    )


# --- the middleware ------------------------------------------------------------------------------------------


class S3Guard:
    """WSGI middleware of the local AWS's public port, in front of the lock and moto (see the module's doc)."""

    def __init__(self, app: Any, clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.clock = clock

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api") and method not in ("GET", "HEAD", "OPTIONS") and environ.get("HTTP_ORIGIN"):
            return access_denied("moto's API does not take changes from web pages.").answer(start_response)
        if not is_s3(environ):
            return self.app(environ, start_response)
        head = method == "HEAD"
        try:
            self._check(environ, method, path)
        except S3Error as error:
            return error.answer(start_response, resource=path, head=head)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            names = {name.lower() for name, _ in SECURITY_HEADERS}
            kept = [(name, value) for name, value in headers if name.lower() not in names]
            return start_response(status, kept + list(SECURITY_HEADERS), exc_info)

        return self.app(environ, start)

    def _check(self, environ: Environ, method: str, path: str) -> None:
        signed = bool(environ.get("HTTP_AUTHORIZATION")) or "X-Amz-Signature=" in environ.get("QUERY_STRING", "")
        if method in ("GET", "HEAD", "OPTIONS") and not signed:
            return  # reads: moto answers them from the bucket policy
        body = read_body(environ)
        if signed:
            verify_signed_request(environ, body, self.clock())
            return
        bucket, _, key = path.lstrip("/").partition("/")
        if method == "POST" and bucket and not key and is_form_post(environ):
            form = parse_form(environ, body)
            check_form(form, bucket, self.clock())
            content_type, rebuilt = form.encode()
            environ["CONTENT_TYPE"] = content_type
            environ["CONTENT_LENGTH"] = str(len(rebuilt))
            environ["wsgi.input"] = io.BytesIO(rebuilt)
            return
        raise access_denied()
