"""The JSON API under /api/v1/."""

from ninja import NinjaAPI

api = NinjaAPI(title="imsclinic API", version="1", urls_namespace="api")
