"""GET /health/."""

from chalice.app import Blueprint

from chalicelib.http.routing import Router

health_bp = Blueprint(__name__)
routes = Router(health_bp)


@routes.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    """Liveness: answers without touching DynamoDB."""
    return {"status": "ok"}
