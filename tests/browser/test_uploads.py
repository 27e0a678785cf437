"""An upload in a real Chromium, from a page on a web-app origin of its own: the image encoded by the browser
itself, the form asked of the API, the file posted straight to the local S3 with FormData (CORS from the
bucket's rules, or the page could not read S3's answer), the edit naming the upload, and the <img> decoding the
image from the answered URL."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import BrowserContext

from devstack.files import STOP_POLL_SECONDS
from devstack.stack import LocalStack, free_port
from tests.support.images import jpeg

PAGE = "<!doctype html><html lang='en'><head><title>Web app</title></head><body><main></main></body></html>"

# Everything a profile page does, in the page's own JavaScript.
UPLOAD = """
async ({api, type, width, height, bytes}) => {
  const signIn = await fetch(`${api}/api/token/`, {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({username: "user", password: "password"}),
  });
  const auth = {"Authorization": `Bearer ${(await signIn.json()).access}`, "Content-Type": "application/json"};
  let blob;
  if (bytes) {
    blob = new Blob([new Uint8Array(bytes)], {type});
  } else {
    const canvas = document.createElement("canvas");
    canvas.width = width; canvas.height = height;
    const context = canvas.getContext("2d");
    context.fillStyle = "#c83264"; context.fillRect(0, 0, width, height);
    blob = await new Promise((done) => canvas.toBlob(done, type, 0.9));
  }
  const started = await fetch(`${api}/api/uploads/`, {
    method: "POST", headers: auth, body: JSON.stringify({purpose: "avatar", content_type: blob.type, size: blob.size}),
  });
  const form = await started.json();
  const body = new FormData();
  for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
  body.append("file", blob, "avatar");
  const posted = await fetch(form.url, {method: "POST", body});
  const edited = await fetch(`${api}/api/me/`, {
    method: "PATCH", headers: auth, body: JSON.stringify({avatar: form.id}),
  });
  const me = await edited.json();
  const image = document.createElement("img");
  image.alt = "Your avatar";
  image.src = me.avatar;
  document.querySelector("main").append(image);
  await image.decode();
  return {
    type: blob.type, started: started.status, posted: posted.status, edited: edited.status,
    avatar: me.avatar, width: image.naturalWidth, height: image.naturalHeight,
  };
}
"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class _Ipv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _serve(server: ThreadingHTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": STOP_POLL_SECONDS}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def web_server() -> Iterator[int]:
    """A page served from this machine on a port of its own, as the web app's dev server serves it (a page the
    browser did not get from a local address may not call local ones: Chromium's local network access rules)."""
    yield from _serve(ThreadingHTTPServer(("127.0.0.1", free_port()), _Page))


@pytest.fixture
def web_app(new_context: Any, web_server: int) -> tuple[BrowserContext, str]:
    """A context for pages of a web-app origin (http://localhost:<port>, which the local stage allows)."""
    origin = f"http://localhost:{web_server}"
    return new_context(base_url=origin), origin


@pytest.mark.parametrize("kind", ["image/png", "image/jpeg", "image/webp"])
def test_a_browser_uploads_an_avatar_it_encoded_and_shows_it(web_app, stack: LocalStack, watch, kind):
    context, origin = web_app
    page = context.new_page()
    page.goto(f"{origin}/profile")
    result = page.evaluate(UPLOAD, {"api": stack.url, "type": kind, "width": 320, "height": 240, "bytes": None})
    assert result["type"] == kind  # Chromium encoded the canvas as asked
    assert {k: result[k] for k in ("started", "posted", "edited", "width", "height")} == {
        "started": 201,
        "posted": 204,
        "edited": 200,
        "width": 320,
        "height": 240,
    }
    assert result["avatar"].startswith(f"{stack.aws_url}/sessions-local-uploads/media/avatars/")
    assert watch.console_errors == []


def test_the_test_suites_hand_made_jpeg_is_a_real_image(web_app, stack: LocalStack):
    context, origin = web_app
    page = context.new_page()
    page.goto(f"{origin}/profile")
    result = page.evaluate(
        UPLOAD, {"api": stack.url, "type": "image/jpeg", "width": 0, "height": 0, "bytes": list(jpeg(8, 8))}
    )
    assert (result["edited"], result["width"], result["height"]) == (200, 8, 8)


# A form S3 refuses for its missing policy (403), as the local S3 does: an answer to read is all this needs.
POST_FORM = """async (url) => {
    const body = new FormData();
    body.append("key", "uploads/cors-probe");
    body.append("file", new Blob(["probe"]));
    try { return (await fetch(url, {method: "POST", body})).status; }
    catch (error) { return error.name; }
}"""


def test_s3s_answer_is_readable_from_an_allowed_origin_only(web_app, stack: LocalStack, watch, new_context: Any):
    bucket = f"{stack.aws_url}/sessions-local-uploads"
    context, origin = web_app
    allowed = context.new_page()
    allowed.goto(f"{origin}/profile")
    assert allowed.evaluate(POST_FORM, bucket) == 403
    # This machine, but neither localhost nor 127.0.0.1: an origin the local stage does not allow.
    for port in _serve(_Ipv6Server(("::1", 0), _Page)):
        other = new_context().new_page()
        other.goto(f"http://[::1]:{port}/profile")
        assert other.evaluate(POST_FORM, bucket) == "TypeError"  # the CORS failure, as a page sees it
    assert [m for m in watch.console_errors if "blocked by CORS policy" in m] == [
        f"Access to fetch at '{bucket}' from origin 'http://[::1]:{port}' has been blocked by CORS policy: "
        "No 'Access-Control-Allow-Origin' header is present on the requested resource."
    ]
