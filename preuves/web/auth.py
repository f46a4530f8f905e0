"""Login and logout (only when the workspace has accounts)."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from evidence.accounts import authenticate
from preuves.web.context import state
from preuves.web.security import LoginThrottle

blueprint = Blueprint("auth", __name__)
throttle = LoginThrottle()


@blueprint.route("/connexion", methods=["GET", "POST"])
def login() -> str | Response:
    if not state().accounts:
        return redirect(url_for("cases.index"))
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        if throttle.locked(username):
            error = "Trop d'essais pour cet identifiant : réessayez dans un quart d'heure."
        else:
            account = authenticate(state().workspace, username, password)
            if account is None:
                throttle.failed(username)
                error = "Identifiant ou mot de passe incorrect."
            else:
                throttle.succeeded(username)
                session.clear()  # a new session on login: no fixation of an old one
                session.permanent = True
                session["user"] = asdict(account)
                return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error), 200 if error is None else 401


@blueprint.route("/deconnexion", methods=["POST"])
def logout() -> Response:
    session.clear()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only a path of this site, never another site (open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("cases.index")
