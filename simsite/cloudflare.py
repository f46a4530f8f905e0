"""Cloudflare in front of the simulated site: its block page, its rate-limit page (error 1015) and its challenge.

RDV Préfecture sits behind Cloudflare, and bots report the three pages (REFERENCE.md §4). Their texts, ids and
classes follow Cloudflare's own pages as publicly described; their markup is simplified, without script or
stylesheet (so the challenge never passes by itself: a real one may, for a real browser). Each answer carries
the status and headers Cloudflare sends: ``Server: cloudflare``, a ``CF-RAY`` whose first part is the Ray ID
printed in the page, and ``cf-mitigated: challenge`` on a challenge.
"""

from __future__ import annotations

import secrets

from simsite.markup import BANNER, esc_text
from simsite.response import Response, html

BLOCKED_HEADLINE = "Sorry, you have been blocked"
RATE_LIMITED_HEADLINE = "You are being rate limited"
CHALLENGE_TEXT = "Verify you are human by completing the action below."

_FOOTER = """<div class="cf-error-footer cf-wrapper"><p>
  <span class="cf-footer-item">Cloudflare Ray ID: <strong class="font-semibold">{ray}</strong></span>
  <span class="cf-footer-separator">&bull;</span>
  <span class="cf-footer-item"><span>Performance &amp; security by</span> <a id="brand_link" href="#">Cloudflare</a></span>
</p></div>"""


def _error_page(title: str, header: str, sections: str, ray: str) -> str:
    return f"""<!DOCTYPE html>
<html class="no-js" lang="en-US">
<head><meta charset="UTF-8"><title>{title}</title><meta name="robots" content="noindex, nofollow">
<style>body{{margin:0;font:15px -apple-system,Arial,sans-serif;color:#404040}}#cf-wrapper{{max-width:960px;margin:40px auto;padding:0 24px}}
h1{{font-size:36px;font-weight:300;margin:0 0 8px}}.cf-subheadline{{font-size:20px;font-weight:300;color:#595959}}
.cf-columns{{display:flex;gap:40px;margin-top:32px}}.cf-column{{flex:1}}.cf-error-footer{{border-top:1px solid #ddd;margin-top:40px;padding-top:12px;font-size:13px}}</style>
</head>
<body>
{BANNER}
<div id="cf-wrapper">
  <div id="cf-error-details" class="cf-error-details-wrapper">
    <div class="cf-wrapper cf-header cf-error-overview">
{header}
    </div>
    <div class="cf-section cf-wrapper"><div class="cf-columns two">
{sections}
    </div></div>
    {_FOOTER.format(ray=ray)}
  </div>
</div>
</body>
</html>
"""


def _headers(ray: str, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (("Server", "cloudflare"), ("CF-RAY", f"{ray}-CDG"), *extra)


def _ray() -> str:
    return secrets.token_hex(8)


def blocked(host: str) -> Response:
    """The WAF's block page, 403."""
    ray = _ray()
    header = f"""      <h1 data-translate="block_headline">{BLOCKED_HEADLINE}</h1>
      <h2 class="cf-subheadline"><span data-translate="unable_to_access">You are unable to access</span> {esc_text(host)}</h2>"""
    sections = """      <div class="cf-column"><h2 data-translate="blocked_why_headline">Why have I been blocked?</h2>
        <p>This website is using a security service to protect itself from online attacks. The action you just performed triggered the security solution. There are several actions that could trigger this block including submitting a certain word or phrase, a SQL command or malformed data.</p></div>
      <div class="cf-column"><h2 data-translate="blocked_resolve_headline">What can I do to resolve this?</h2>
        <p>You can email the site owner to let them know you were blocked. Please include what you were doing when this page came up and the Cloudflare Ray ID found at the bottom of this page.</p></div>"""
    return html(_error_page("Attention Required! | Cloudflare", header, sections, ray), 403, _headers(ray))


def rate_limited(host: str) -> Response:
    """Error 1015, 429."""
    ray = _ray()
    header = f"""      <h1><span class="cf-error-type" data-translate="error">Error</span> <span class="cf-error-code">1015</span></h1>
      <h2 class="cf-subheadline" data-translate="error_desc">{RATE_LIMITED_HEADLINE}</h2>"""
    sections = f"""      <div class="cf-column"><h2 data-translate="what_happened">What happened?</h2>
        <p>The owner of this website ({esc_text(host)}) has banned you temporarily from accessing this website.</p></div>"""
    title = f"Access denied | {esc_text(host)} used Cloudflare to restrict access"
    return html(_error_page(title, header, sections, ray), 429, _headers(ray, ("Retry-After", "60")))


def challenge(host: str) -> Response:
    """The managed challenge (« Just a moment... »), 403; its Turnstile box is a drawing that nothing answers."""
    ray = _ray()
    page = f"""<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="UTF-8"><title>Just a moment...</title><meta name="robots" content="noindex,nofollow">
<style>body{{margin:0;font:16px -apple-system,Arial,sans-serif;color:#313131}}.main-content{{max-width:760px;margin:80px auto;padding:0 24px}}
.h1{{font-size:40px;font-weight:500;margin:0 0 16px}}.h2{{font-size:24px;font-weight:500}}
#challenge-stage{{width:300px;height:65px;border:1px solid #e0e0e0;background:#fafafa;margin:24px 0;display:flex;align-items:center;padding:0 16px;box-sizing:border-box}}
.footer{{max-width:760px;margin:0 auto;padding:24px;font-size:12px;border-top:1px solid #d9d9d9}}</style>
</head>
<body>
{BANNER}
<div class="main-wrapper" role="main"><div class="main-content">
  <h1 class="zone-name-title h1">{esc_text(host)}</h1>
  <p id="challenge-title" class="h2 spacer-bottom">{CHALLENGE_TEXT}</p>
  <div id="challenge-stage"><div class="cf-turnstile" id="turnstile-wrapper">Verify you are human</div></div>
  <div id="challenge-body-text" class="core-msg spacer">{esc_text(host)} needs to review the security of your connection before proceeding.</div>
</div></div>
<div class="footer" role="contentinfo"><div class="footer-inner">
  <div class="ray-id">Ray ID: <code>{ray}</code></div>
  <div class="text-center" id="footer-text">Performance &amp; security by <a href="#">Cloudflare</a></div>
</div></div>
</body>
</html>
"""
    return html(page, 403, _headers(ray, ("cf-mitigated", "challenge")))
