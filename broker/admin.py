"""Operator actions on a running broker (the ADMIN request).

==========  ==========================================  ===========================
action      args                                        effect
==========  ==========================================  ===========================
pause       {}                                          stop dispatching (queueing goes on)
resume      {}                                          dispatch again
drain       {"rater": ID-or-HOST} (or {"all": true})    matching raters finish their job, get no more
undrain     same as drain                               they take work again
cancel      {"domains": [..]}                           drop those jobs (queued or in flight; not rated ones)
dispatches  {"reset": true} (optional)                  dispatches per owner IP since start or last reset
weight      {"ip": IP, "weight": N}                     DRR weight of a client IP (1 forgets it)
rerate      {"rater": NAME}                             queue afresh every domain NAME rated (its key name,
                                                        else host/worker), ahead of new work in queue "rerate"
==========  ==========================================  ===========================

Each returns ``(ok, detail, data)`` for the ADMIN_REPLY, or None when the
core answers later (rerate: once the store has been read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from protocol import AdminReply

from .ops import FindRatedBy, Outcome
from .stats import rater_id

if TYPE_CHECKING:
    from .core import BrokerCore

RERATE_QUEUE = "rerate"        # the client-IP queue of operator re-ratings
RERATE_LIMIT = 100_000         # domains re-queued per request (the reply says when to ask again)

__all__ = ["handle", "ACTIONS"]

ACTIONS = ("pause", "resume", "drain", "undrain", "cancel", "weight", "dispatches", "rerate")


def handle(core: BrokerCore, action: str, args: dict, identity: bytes = b"",
           req_id: int = 0) -> tuple[bool, str, dict] | None:
    if action == "pause":
        core.paused = True
        return True, "dispatching paused", {}
    if action == "resume":
        core.paused = False
        return True, "dispatching resumed", {}
    if action in ("drain", "undrain"):
        return _drain(core, args, action == "drain")
    if action == "cancel":
        return _cancel(core, args)
    if action == "dispatches":
        counts = dict(core.dispatch_by_ip)
        if args.get("reset") is True:
            core.dispatch_by_ip.clear()
        return True, f"dispatches of {len(counts)} IP(s)", {"by_ip": counts}
    if action == "weight":
        ip, weight = args.get("ip"), args.get("weight")
        if not isinstance(ip, str) or not ip or isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            return False, "weight needs {'ip': str, 'weight': int >= 1}", {}
        try:
            core.set_weight(ip, weight)
        except ValueError as e:
            return False, str(e), {}
        return True, f"weight of {ip} set to {weight}", {}
    if action == "rerate":
        rater = args.get("rater")
        if not isinstance(rater, str) or not rater or len(rater) > 255:
            return False, "rerate needs {'rater': NAME} (a key name, or host/worker without keys)", {}
        # The store is read in the journal thread; the reply waits for it.
        core.writes.append(FindRatedBy(rater, identity, req_id, RERATE_LIMIT))
        return None
    return False, f"unknown action {action!r}; known: {', '.join(ACTIONS)}", {}


def _drain(core: BrokerCore, args: dict, draining: bool) -> tuple[bool, str, dict]:
    target = args.get("rater")
    everyone = args.get("all") is True
    if not everyone and (not isinstance(target, str) or not target):
        return False, "drain needs {'rater': id-or-host} or {'all': true}", {}
    matched = []
    for rater in list(core.raters):
        if everyone or target in (rater_id(rater.identity), rater.host, rater.name):
            core.set_draining(rater, draining)
            matched.append(rater_id(rater.identity))
    if not matched:
        return False, f"no rater matches {target!r}", {"raters": []}
    verb = "draining" if draining else "undrained"
    return True, f"{verb} {len(matched)} rater(s)", {"raters": matched}


def _cancel(core: BrokerCore, args: dict) -> tuple[bool, str, dict]:
    domains = args.get("domains")
    if not isinstance(domains, (list, tuple)) or not all(isinstance(d, str) for d in domains):
        return False, "cancel needs {'domains': [str, ...]}", {}
    # The removal goes through the core's ordered writes, after any pending
    # enqueue of the same domain (never around it: that would leave a row).
    cancelled = core.cancel(domains)
    return True, f"cancelled {len(cancelled)} of {len(domains)}", {"cancelled": cancelled}


def rerate_found(core: BrokerCore, op: FindRatedBy, outcome: Outcome, wall: float) -> None:
    """The store said which domains ``op.rater`` rated: queue each afresh and answer the operator."""
    if not outcome.ok:
        core.replies.append((op.identity, AdminReply(
            req_id=op.req_id, ok=False, detail=f"could not read {op.rater}'s ratings: {outcome.detail}"[:500],
            data={})))
        return
    batch = []
    for domain in op.found:
        core.recently_rated.forget(domain)
        # A queue of its own, first in it: served in turn with every client
        # IP, whatever their caps (the operator asked).
        job, is_new = core.fq.add(domain, RERATE_QUEUE, 0, wall)
        if is_new:
            batch.append(job)
    if batch:
        core.enqueue_new(batch)
    core.counters["rerated"] += len(batch)
    more = " (the limit: ask again for more)" if len(op.found) >= op.limit else ""
    core.replies.append((op.identity, AdminReply(
        req_id=op.req_id, ok=True,
        detail=f"{len(batch)} of {len(op.found)} domains rated by {op.rater} queued for a fresh rating{more}",
        data={"queued": len(batch), "found": len(op.found)})))
