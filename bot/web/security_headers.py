"""Security headers on every response (pages, API, static files, SSE streams).

A pure ASGI middleware rather than BaseHTTPMiddleware: it only adds headers to
`http.response.start`, so streaming responses (the console's SSE, the web chat's long poll)
pass through untouched.

The pages load only their own scripts and styles (no inline code, no external hosts), so the
Content-Security-Policy can be strict: a stored XSS in a transcript could not run a script.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _policy(style_src: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style_src}",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


CSP = _policy("'self'")
# The observatory draws its charts with matplotlib, whose inline SVG carries style
# attributes and a <style> element: inline styles (never scripts) are allowed there only.
CSP_INLINE_STYLES = _policy("'self' 'unsafe-inline'")
INLINE_STYLE_PATHS = ("/operator/admin/observatory",)

# Nothing of ours needs these powerful features: deny them to any script that might run.
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"

BASE_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", PERMISSIONS.encode()),
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers without CSP level 2
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the headers above; HSTS when the site is https.

    Args:
        app: the wrapped ASGI application.
        https_site: `PUBLIC_BASE_URL` is https (the rule of the console's Secure cookies).
            Otherwise HSTS is sent only on requests that arrived over https, as uvicorn sees
            them (directly, or through a proxy trusted by `--forwarded-allow-ips`), the rule
            of the web chat's Secure cookie: a browser ignores HSTS over plain http anyway.
    """

    def __init__(self, app: ASGIApp, *, https_site: bool) -> None:
        self.app = app
        self.https_site = https_site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hsts = self.https_site or scope.get("scheme") == "https"
        path = scope.get("path", "")
        csp = CSP_INLINE_STYLES if path.startswith(INLINE_STYLE_PATHS) else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in BASE_HEADERS if n not in present]
                headers.append((b"content-security-policy", csp.encode()))
                if hsts:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
