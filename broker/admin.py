"""Operator actions on a running broker (the ADMIN request).

=========  ==========================================  ===========================
action     args                                        effect
=========  ==========================================  ===========================
pause      {}                                          stop dispatching (queueing goes on)
resume     {}                                          dispatch again
drain      {"rater": ID-or-HOST} (or {"all": true})    matching raters finish their job, get no more
undrain    same as drain                               they take work again
cancel     {"domains": [..]}                           drop those jobs (queued or in flight)
weight     {"ip": IP, "weight": N}                     deficit round-robin weight of a client IP
=========  ==========================================  ===========================

Each returns ``(ok, detail, data)`` for the ADMIN_REPLY.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .stats import rater_id

if TYPE_CHECKING:
    from .server import Broker

__all__ = ["handle", "ACTIONS"]

ACTIONS = ("pause", "resume", "drain", "undrain", "cancel", "weight")


def handle(broker: Broker, action: str, args: dict) -> tuple[bool, str, dict]:
    if action == "pause":
        broker.paused = True
        return True, "dispatching paused", {}
    if action == "resume":
        broker.paused = False
        return True, "dispatching resumed", {}
    if action in ("drain", "undrain"):
        return _drain(broker, args, action == "drain")
    if action == "cancel":
        return _cancel(broker, args)
    if action == "weight":
        ip, weight = args.get("ip"), args.get("weight")
        if not isinstance(ip, str) or not ip or isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            return False, "weight needs {'ip': str, 'weight': int >= 1}", {}
        broker.fq.set_weight(ip, weight)
        return True, f"weight of {ip} set to {weight}", {}
    return False, f"unknown action {action!r}; known: {', '.join(ACTIONS)}", {}


def _drain(broker: Broker, args: dict, draining: bool) -> tuple[bool, str, dict]:
    target = args.get("rater")
    everyone = args.get("all") is True
    if not everyone and (not isinstance(target, str) or not target):
        return False, "drain needs {'rater': id-or-host} or {'all': true}", {}
    matched = []
    for rater in list(broker.raters):
        if everyone or target in (rater_id(rater.identity), rater.host, rater.name):
            broker.raters.set_draining(rater, draining)
            matched.append(rater_id(rater.identity))
    if not matched:
        return False, f"no rater matches {target!r}", {"raters": []}
    verb = "draining" if draining else "undrained"
    return True, f"{verb} {len(matched)} rater(s)", {"raters": matched}


def _cancel(broker: Broker, args: dict) -> tuple[bool, str, dict]:
    domains = args.get("domains")
    if not isinstance(domains, (list, tuple)) or not all(isinstance(d, str) for d in domains):
        return False, "cancel needs {'domains': [str, ...]}", {}
    cancelled = []
    for domain in domains:
        job = broker.fq.get(domain)
        if job is not None:
            broker.fq.finish(job)
            cancelled.append(domain)
    if cancelled:
        broker.journal.submit("remove", cancelled)
    return True, f"cancelled {len(cancelled)} of {len(domains)}", {"cancelled": cancelled}
