"""The Flask application: configuration, security headers, error pages, and the page modules."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

import templates
from capture.chromium import BrowserService
from capture.settings import CaptureSettings
from evidence.database import MAX_ROW_ID
from evidence.letters import max_file_bytes
from evidence.workspace import Workspace
from preuves.web import actions, auth, captures, cases, filters, pieces, plans
from preuves.web.context import WebState
from preuves.web.exports import sweep_exports
from preuves.web.security import FORM_BYTES, SESSION_HOURS, check_access, check_csrf, csrf_token, limit_body, secret_key
from preuves.web.settings import WebSettings

TEMPLATE_FOLDER = Path(templates.__file__).parent / "web"
# Room for a letter, its proofs and the form fields around them.
UPLOAD_OVERHEAD = 5

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def create_app(
    workspace: Workspace,
    *,
    accounts: bool,
    settings: CaptureSettings | None = None,
    browser: BrowserService | None = None,
) -> Flask:
    """The dashboard over `workspace`; with `accounts` (or as soon as one exists), every page
    needs a signed-in user."""
    app = Flask(__name__, template_folder=str(TEMPLATE_FOLDER), static_folder=None)
    web_settings = WebSettings.from_config(workspace.section("web"))
    app.config.update(
        SECRET_KEY=secret_key(workspace.home),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="preuves_session",
        SESSION_COOKIE_SECURE=web_settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        SESSION_REFRESH_EACH_REQUEST=False,  # the lifetime counts from the sign-in, never extended
        MAX_CONTENT_LENGTH=upload_limit(workspace),
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
    )
    app.url_map.converters["int"] = RowIdConverter  # before the blueprints add their routes
    settings = settings or CaptureSettings.from_config(workspace.section("capture"))
    web = WebState(workspace, accounts, settings, web_settings, shared_browser=browser)
    sweep_exports(web.exports)
    app.extensions["preuves"] = web
    app.jinja_env.globals["csrf_token"] = csrf_token
    filters.register(app)

    @app.before_request
    def guard() -> Response | None:
        g.accounts = web.accounts
        redirect_to = check_access(workspace, g.accounts)
        if redirect_to is None:
            limit_body(app.config["MAX_CONTENT_LENGTH"])
            check_csrf()
        return redirect_to

    @app.context_processor
    def page_globals() -> dict[str, object]:
        return {
            "viewer": g.get("viewer"), "accounts": g.get("accounts", True), "demo": workspace.demo,
            "allow_any_domain": web_settings.allow_any_domain,
        }

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if response.mimetype == "text/html":  # pages show personal data: never cache them
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def error_page(error: HTTPException) -> tuple[str, int]:
        message = _french(error)
        if error.code == 413 and request.max_content_length == FORM_BYTES:
            message = f"Formulaire trop volumineux ({FORM_BYTES // 1024} Ko au plus)."
        elif error.code == 413:
            message += f" Un envoi ne peut dépasser {app.config['MAX_CONTENT_LENGTH'] // 2**20} Mo."
        return render_template("error.html", message=message), error.code or 500

    for blueprint in (
        auth.blueprint, cases.blueprint, captures.blueprint, actions.blueprint, plans.blueprint, pieces.blueprint,
    ):
        app.register_blueprint(blueprint)
    return app


def upload_limit(workspace: Workspace) -> int:
    """The largest request body: a letter and its proofs (the server refuses more before reading it)."""
    return max_file_bytes(workspace) * (1 + UPLOAD_OVERHEAD)


class RowIdConverter(IntegerConverter):
    """`<int:…>` in our routes: a row id, so a number too large for the database is not found (404)
    rather than an overflow inside the query (500)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


FRENCH_ERRORS = {
    400: "Requête incorrecte.",
    403: "Accès refusé.",
    404: "Page introuvable.",
    405: "Méthode non autorisée.",
    413: "Fichier trop volumineux.",
    500: "Erreur interne : elle est consignée dans le journal du serveur.",
}


def _french(error: HTTPException) -> str:
    """Our own aborts carry a French description; Werkzeug's defaults are English."""
    default = type(error).description
    if error.description and error.description != default:
        return error.description
    return FRENCH_ERRORS.get(error.code or 500, "Erreur.")
