"""Does this rebuild answer like the original? Compare a few requests, made through the WSGI handler, with
/work/shared/reference/drf-simplejwt-responses.txt (path given as argument); print the result as JSON.

Bodies are compared byte for byte once timestamps are masked; tokens by their header, claim names, lifetimes
and user id (their signatures, times and jtis differ by nature)."""

import ast
import base64
import io
import json
import os
import re
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

from backend.wsgi import application

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def call(method, path, headers=None, body=b""):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    response = application(environ, start_response)
    try:
        answer["body"] = b"".join(response).decode()
    finally:
        response.close()
    return answer


def reference(path):
    """{name: (status, chosen headers, body, metadata lines)} from the reference file."""
    blocks = {}
    current = None
    for line in open(path, encoding="utf-8").read().split("\n"):
        header = re.match(r"^--- (.+?): (\d{3}) (\{.*\})$", line)
        if header:
            current = header.group(1)
            blocks[current] = [int(header.group(2)), ast.literal_eval(header.group(3)), [], {}]
        elif current is not None:
            meta = re.match(r"^(access claims|refresh claims|header): (\{.*\})$", line)
            if meta:
                blocks[current][3][meta.group(1)] = ast.literal_eval(meta.group(2))
            else:
                blocks[current][2].append(line)
    return {
        name: (status, headers, "\n".join(body).strip(), meta) for name, (status, headers, body, meta) in blocks.items()
    }


def decoded(token):
    def part(text):
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))

    head, claims, _ = token.split(".")
    return part(head), part(claims)


def token_shape(claims):
    return {
        "claims": sorted(claims),
        "lifetime": claims["exp"] - claims["iat"],
        "user_id": claims["user_id"],
        "token_type": claims["token_type"],
        "jti": bool(re.fullmatch(r"[0-9a-f]{32}", claims["jti"])),
    }


def main():
    expected = reference(sys.argv[1])
    json_body = {"Content-Type": "application/json"}
    login = json.dumps({"username": "creator_user", "password": "password"}).encode()
    tokens = call("POST", "/api/token/", json_body, login)
    access = json.loads(tokens["body"])["access"]
    user_access = json.loads(
        call("POST", "/api/token/", json_body, json.dumps({"username": "user", "password": "password"}).encode())[
            "body"
        ]
    )["access"]
    bad = json.dumps({"username": "creator_user", "password": "wrong"}).encode()
    answers = {
        "health": call("GET", "/health/"),
        "token ok": tokens,
        "token bad": call("POST", "/api/token/", json_body, bad),
        "me ok": call("GET", "/api/me/", {"Authorization": f"Bearer {access}"}),
        "me noauth": call("GET", "/api/me/"),
        "events list": call("GET", "/api/events/"),
        "event detail": call("GET", "/api/events/1/"),
        "event 404": call("GET", "/api/events/999/"),
        "events post anon": call("POST", "/api/events/", json_body, b"{}"),
        "events post USER": call("POST", "/api/events/", {**json_body, "Authorization": f"Bearer {user_access}"}),
        "path 404": call("GET", "/nowhere/"),
    }
    mismatches = []
    for name, got in answers.items():
        status, headers, body, meta = expected[name]
        problems = []
        if got["status"] != status:
            problems.append(f"status {got['status']} != {status}")
        for header, value in headers.items():
            if got["headers"].get(header) != value:
                problems.append(f"{header}: {got['headers'].get(header)!r} != {value!r}")
        text = got["body"].strip()
        if name == "token ok":
            pair = json.loads(text)
            if sorted(pair) != sorted(json.loads(body)):
                problems.append(f"keys {sorted(pair)}")
            for kind in ("access", "refresh"):
                head, claims = decoded(pair[kind])
                if head != meta["header"] or token_shape(claims) != token_shape(meta[f"{kind} claims"]):
                    problems.append(f"{kind} token {head} {claims}")
        elif name == "events list":
            # The reference lists two events; the bench database has those two and one more.
            listed = json.loads(TIMESTAMP.sub("T", text))
            if listed[:2] != json.loads(TIMESTAMP.sub("T", body)) or {tuple(e) for e in listed} != {tuple(listed[0])}:
                problems.append(text[:300])
        elif TIMESTAMP.sub("T", text) != TIMESTAMP.sub("T", body):
            problems.append(text[:300])
        if problems:
            mismatches.append({"request": name, "problems": problems})
    print(json.dumps({"checked": len(answers), "mismatches": mismatches}))


if __name__ == "__main__":
    main()
