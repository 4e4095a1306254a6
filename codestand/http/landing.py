"""`GET /`: a page of links, so a person who opens the server's address finds their way.

Served by a middleware in front of Connexion because `/` is no route of either contract, and
adding it to `openapi.yaml` would put a path in the vendors' API that the vendors do not have.
Links are relative, so the page also works when a proxy serves codestand under a prefix.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from codestand import __version__

_LINKS = (
    ("ui/", "Swagger UI", "every operation of both vendors and of the control plane; “Try it out” works"),
    ("openapi.json", "Vendor contract", "Thought Industries and Moltin (also as openapi.yaml)"),
    ("__codestand/openapi.json", "Control plane contract", "reset, catalogs, generated codes, clock"),
    ("__codestand/health", "Health", "liveness and storage check"),
)

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
p.lead { margin-top: 0; color: #555; }
li { margin: .4rem 0; }
code { background: #f2f2f2; padding: 0 .25rem; border-radius: 3px; }
"""


def render() -> str:
    items = "\n".join(
        f'    <li><a href="{href}">{escape(title)}</a>: {escape(what)}</li>' for href, title, what in _LINKS
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>codestand</title>
  <style>{_STYLE}</style>
</head>
<body>
  <h1>codestand {escape(__version__)}</h1>
  <p class="lead">A stand-in for the code-issuing APIs of Thought Industries
  (<code>/incoming/v2/…</code>) and Moltin (<code>/v2/…</code>, <code>/oauth/access_token</code>).</p>
  <ul>
{items}
  </ul>
</body>
</html>
"""


class LandingPage:
    """Answers `GET /` and `HEAD /`; every other request goes on to Connexion."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.page = HTMLResponse(render())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/" and scope["method"] in ("GET", "HEAD"):
            await self.page(scope, receive, send)
            return
        await self.app(scope, receive, send)
