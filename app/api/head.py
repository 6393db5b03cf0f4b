"""HEAD on every GET resource (RFC 9110, 9.3.2): the GET answer's status and headers, no body.

FastAPI routes answer only the methods they declare, so HEAD would get 405 although CORS
and every cache expect it. The request goes through the app as a GET; the body is dropped.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    """Answer HEAD requests as the matching GET would, without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call; only HTTP HEAD requests are changed."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        # A copy: the server reads the method from its own scope to know the answer is bodiless.
        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, without_body)
        finally:
            # What routing found (the route, its endpoint), for the middlewares outside.
            scope.update({key: value for key, value in as_get.items() if key != "method"})
