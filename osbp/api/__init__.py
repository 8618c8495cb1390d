"""JSON API under /api/v1 for devices and the bilateral layer. Described by /api/v1/openapi.json."""
