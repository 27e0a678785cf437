"""Refresh races and the password-reset e-mail, over HTTP against the local stack (the code behind `make run`)."""

import email
import email.policy
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import requests

BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
PASSWORD = "vivid-otter-92-lamp"


def _pair(base: str, username: str = "user", password: str = "password") -> dict:
    reply = requests.post(f"{base}/api/token/", json={"username": username, "password": password}, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _refresh(base: str, refresh: str) -> requests.Response:
    return requests.post(f"{base}/api/token/refresh/", json={"refresh": refresh}, timeout=30)


def _race(base: str, token: str) -> list[requests.Response]:
    """Send two refreshes of `token` at the same moment."""
    start = threading.Barrier(2)

    def refresh(_: int) -> requests.Response:
        start.wait()
        return _refresh(base, token)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(refresh, range(2)))


def test_two_parallel_refreshes_of_one_token_give_one_new_pair_and_revoke_the_family(base):
    for _ in range(5):
        replies = _race(base, _pair(base)["refresh"])
        assert sorted(r.status_code for r in replies) == [200, 401]
        [winner] = [r for r in replies if r.status_code == 200]
        [loser] = [r for r in replies if r.status_code == 401]
        assert loser.json() == BLACKLISTED
        # The loser presented a token the winner had rotated: reuse, so the winner's new token is revoked too.
        assert _refresh(base, winner.json()["refresh"]).json() == BLACKLISTED


def _mails_to(stack, address: str) -> list:
    folder = stack.data_dir.parent / "mail"
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]
    return [m for m in messages if m["To"] == address]


def test_password_reset_by_e_mail_end_to_end(base, stack):
    body = {"username": "forgetful", "email": "forgetful@example.com", "password": PASSWORD}
    assert requests.post(f"{base}/api/register/", json=body, timeout=30).status_code == 201
    session = _pair(base, "forgetful", PASSWORD)
    reply = requests.post(f"{base}/api/password/reset/", json={"email": "forgetful@example.com"}, timeout=30)
    assert (reply.status_code, reply.json()) == (200, {"detail": "Password reset e-mail has been sent."})
    [message] = _mails_to(stack, "forgetful@example.com")
    [link] = [line for line in message.get_content().splitlines() if "/reset-password?" in line]
    assert link.startswith(f"{stack.web_url}/reset-password?uid=")  # the stack's own web app
    query = parse_qs(urlsplit(link).query)
    confirm = {"uid": query["uid"][0], "token": query["token"][0], "new_password": "brisk-heron-47-quilt"}
    done = requests.post(f"{base}/api/password/reset/confirm/", json=confirm, timeout=30)
    assert (done.status_code, done.json()) == (200, {"detail": "Password has been reset with the new password."})
    assert _refresh(base, session["refresh"]).json() == BLACKLISTED
    assert _pair(base, "forgetful", "brisk-heron-47-quilt")
    again = requests.post(f"{base}/api/password/reset/confirm/", json=confirm, timeout=30)
    assert (again.status_code, again.json()) == (400, {"token": ["Invalid value"]})
