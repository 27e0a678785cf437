"""Uniqueness under concurrency, over HTTP against the local stack."""

from concurrent.futures import ThreadPoolExecutor

import requests


def test_twenty_parallel_sign_ups_with_one_username_give_exactly_one_201(base):
    def sign_up(i: int) -> requests.Response:
        body = {"username": "racer", "email": f"racer{i}@example.com", "password": "vivid-otter-92-lamp"}
        return requests.post(f"{base}/api/register/", json=body, timeout=30)

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(sign_up, range(20)))
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [201] + [400] * 19, statuses
    for reply in replies:
        if reply.status_code == 400:
            assert reply.json() == {"username": ["A user with that username already exists."]}


def test_parallel_sign_ups_with_one_email_in_different_cases_give_exactly_one_201(base):
    def sign_up(i: int) -> requests.Response:
        email = "Shared@Example.com" if i % 2 else "shared@example.com"
        body = {"username": f"sharer{i}", "email": email, "password": "vivid-otter-92-lamp"}
        return requests.post(f"{base}/api/register/", json=body, timeout=30)

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(r.status_code for r in pool.map(sign_up, range(10)))
    assert statuses == [201] + [400] * 9
