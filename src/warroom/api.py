"""The REST API root: ``/api/v1/``."""

from ninja import NinjaAPI

import warroom

api = NinjaAPI(title="Warroom API", version=warroom.__version__, urls_namespace="api-v1")
