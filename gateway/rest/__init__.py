"""The REST facade: HTTP/JSON in front of the same core as the gRPC server.

A thin adapter (STYLE "the shape of the system").  Every route is generated from the
``google.api.http`` annotations in :data:`gateway.core.methods.METHODS`; a route turns
the request into the method's request message in the proto3 JSON mapping (body, query,
path), awaits one core call and answers the response message as JSON, or, for
``WatchReplicationJob``, as Server-Sent Events.  Any :class:`GatewayError` becomes the
AIP-193 JSON error in one place (:func:`gateway.rest.errors.error_response`); malformed
input is INVALID_ARGUMENT naming the field, never a 500 nor FastAPI's 422.  CORS and an
OpenAPI document generated from the proto descriptors complete it.

Modules: :mod:`.app` (factory), :mod:`.routes` (handlers), :mod:`.jsonmap` (wire ↔
message), :mod:`.errors` (wire form of errors), :mod:`.cors`, :mod:`.openapi`.
"""

from gateway.rest.app import GatewayCore, build_rest_app

__all__ = ["GatewayCore", "build_rest_app"]
