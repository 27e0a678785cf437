"""Uploads: the signed form a browser posts an image with, straight to the bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib import bootstrap as deps
from chalicelib.domain.enums import Access, UploadPurpose
from chalicelib.http.contract import InputRef
from chalicelib.http.responses import json_response
from chalicelib.http.routing import Router
from chalicelib.http.views import UPLOAD

if TYPE_CHECKING:
    from chalicelib.schemas.uploads import UploadCreateIn

uploads_bp = Blueprint(__name__)
routes = Router(uploads_bp)


@routes.route(
    "/api/uploads",
    "POST",
    Access.SIGNED_IN,
    summary="Start an upload: a form to post an avatar or event image straight to storage (valid 10 minutes)",
    body=InputRef("uploads", "UploadCreateIn"),
    responses={201: UPLOAD},
    conflicts=True,
    errors=(404,),
)
def create_upload(data: UploadCreateIn) -> Response:
    """A presigned POST for one image of the declared type and at most the declared size; an event image only
    for an event the caller may edit (403, or 404 for a draft it cannot see)."""
    from chalicelib.services import events, uploads

    caller, purpose = routes.caller(), UploadPurpose(data.purpose)
    if purpose is UploadPurpose.EVENT_IMAGE:
        started = events.start_image_upload(
            deps.events(), deps.media(), caller, data.event, data.content_type, data.size
        )
    else:
        started = uploads.start(deps.media(), caller, purpose, data.content_type, data.size, data.event)
    return json_response(UPLOAD.render(started), 201)
