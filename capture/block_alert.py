"""Tell the user once when a site starts refusing the tool (Cloudflare's block or rate limit).

One message per episode: the first refusal after an attempt that was not refused. The watcher then
rests the host on its own (capture/politeness.py); the message says so, with the time of the next
possible attempt, and that the refusal pages are kept as evidence of an inaccessible site. The alert
and its delivery are journaled ("alert.blocked").
"""

from __future__ import annotations

from sqlalchemy import select

from capture.alerts import AlertResult, Message, notify
from capture.politeness import BLOCK_KINDS, BlockEpisode, starts_block_episode
from capture.settings import CaptureSettings
from evidence import journal
from evidence.localtime import paris_time
from evidence.models import Capture, Case, Target
from evidence.observations import PageObservations
from evidence.workspace import Workspace


def blocked_message(capture: Capture, host: str, case_labels: list[str], retry_text: str) -> Message:
    """French, no personal data beyond the case labels."""
    seen = PageObservations.from_json(capture.observations)
    reference = f" (référence Cloudflare : {seen.block_reference})" if seen.block_reference else ""
    return Message(
        f"{host} refuse l'outil — pause automatique",
        f"Depuis le {paris_time(capture.started_at)} (tentative n° {capture.attempt_no}), {host} refuse les "
        f"tentatives : {BLOCK_KINDS.get(seen.block or '', seen.block)}{reference}.\n"
        f"Dossiers concernés : {', '.join(case_labels)}.\n"
        "La page de refus est gardée comme preuve d'un site inaccessible : elle compte avec les erreurs, "
        "jamais comme « aucun créneau ».\n"
        f"L'outil espace ses tentatives de lui-même ; prochaine tentative possible le {retry_text}. "
        "Vous serez prévenu à nouveau si le site refuse encore après avoir été accessible.",
    )


def alert_block_episode(
    workspace: Workspace, capture: Capture, target: Target, urls: list[str], settings: CaptureSettings
) -> AlertResult | None:
    """Alert and journal if this capture opens a block episode on the target's host; None otherwise."""
    if not starts_block_episode(workspace, capture, target.host):
        return None
    first_pause = BlockEpisode(1, capture.started_at, None).pause(settings.block_pause, settings.min_interval)
    retry_at = capture.started_at + first_pause
    with workspace.reading() as session:
        labels = list(session.scalars(select(Case.label).where(Case.target_id == target.id).order_by(Case.id)))
    result = notify(urls, blocked_message(capture, target.host, labels, paris_time(retry_at)))
    with workspace.writing() as session:
        journal.append(
            session,
            "alert.blocked",
            {
                "capture_id": capture.id,
                "host": target.host,
                "block": PageObservations.from_json(capture.observations).block,
                "retry_at": retry_at.isoformat(),
                "channels": result.channels,
                "delivered": result.delivered,
            },
            workspace.clock.now(),
        )
    return result
