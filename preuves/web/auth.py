"""Login and logout (only when the workspace has accounts)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from evidence.accounts import USERNAME, authenticate, end_sessions
from preuves.web.context import state, viewer
from preuves.web.security import safe_next, sign_in

blueprint = Blueprint("auth", __name__)

WRONG = "Identifiant ou mot de passe incorrect."


@blueprint.route("/connexion", methods=["GET", "POST"])
def login() -> str | Response:
    web = state()
    if not web.accounts:
        return redirect(url_for("cases.index"))
    error, status = None, 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        address = request.remote_addr or ""
        if not USERNAME.fullmatch(username):
            error, status = WRONG, 401  # no such account can exist: nothing to count or check
        elif (refusal := web.throttle.begin(username, address)) is not None:
            error, status = refusal, 429
        elif (account := authenticate(web.workspace, username, password)) is None:
            error, status = WRONG, 401
        else:
            web.throttle.succeeded(username, address)
            sign_in(account)
            return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", error=error), status


@blueprint.route("/deconnexion", methods=["POST"])
def logout() -> Response:
    """Signing out ends every session of the account, this copy of the cookie and any other."""
    signed_in = viewer()
    if signed_in is not None and signed_in.user_id is not None:
        end_sessions(state().workspace, signed_in.user_id)
    session.clear()
    return redirect(url_for("auth.login"))
