"""GET /health/."""

from chalice.app import Blueprint

from chalicelib.http.routing import Router
from chalicelib.http.views import HEALTH

health_bp = Blueprint(__name__)
routes = Router(health_bp)


# Never kept at the edge: a probe through CloudFront must reach the function.
@routes.route(
    "/health", "GET", summary="Liveness", responses={200: HEALTH}, uses_database=False, cache_control="no-store"
)
def health() -> dict[str, str]:
    """Liveness: answers without touching DynamoDB."""
    return {"status": "ok"}
