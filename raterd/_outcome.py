"""Pipeline output -> protocol messages, defensively.

The pipeline's progress callback and its :class:`RatingOutcome` are turned
into PULSE and RESULT here. Whatever the pipeline hands over, the worker
sends something the broker accepts: odd progress values are coerced or
dropped, over-long evidence is trimmed (a rating is worth more than its
hundred-and-first evidence record), and an outcome that still cannot be
sent becomes FAILED with the reason, so the broker retries or records it.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from protocol import MAX_IDENT_LEN, Failed, Job, ProtocolError, Pulse, Result

__all__ = ["pulse_message", "outcome_frames"]

log = logging.getLogger(__name__)


def pulse_message(job_id: str, stage: Any, detail: Any, done: Any, total: Any) -> Pulse | None:
    """A valid PULSE from whatever the pipeline passed to its progress callback, or None."""
    try:
        return Pulse(job_id=job_id, stage=str(stage)[:MAX_IDENT_LEN] or "working", detail=str(detail)[:2000],
                     done=max(0, int(done)), total=max(0, int(total)))
    except (ProtocolError, TypeError, ValueError) as e:
        log.debug("unusable progress report dropped: %s", e)
        return None


def outcome_frames(job: Job, outcome: Any) -> tuple[list[bytes], str | None]:
    """RESULT frames for *outcome* (evidence trimmed if it is too big), else FAILED frames and the error."""
    try:
        evidence = tuple(outcome.evidence)
        fields = dict(job_id=job.job_id, domain=job.domain, rating=outcome.rating, ratinginfo=outcome.ratinginfo,
                      location=outcome.location, elapsed=float(outcome.elapsed))
    except (AttributeError, TypeError, ValueError) as e:
        error = f"pipeline returned an unusable outcome: {type(e).__name__}: {e}"
        return Failed(job_id=job.job_id, error=error, traceback=traceback.format_exc()).to_frames(), error
    try:
        return Result(evidence=evidence, **fields).to_frames(), None
    except ProtocolError as first:
        # Too much or too long evidence must not cost the whole rating.
        trimmed = tuple({k: (v[:2000] if isinstance(v, str) else v) for k, v in item.items()}
                        for item in evidence[:100] if isinstance(item, dict))
        note = {"kind": "note", "value": f"evidence trimmed: {first.message}"[:2000], "source": "raterd"}
        try:
            frames = Result(evidence=trimmed + (note,), **fields).to_frames()
            log.warning("result for %s sent with trimmed evidence: %s", job.domain, first)
            return frames, None
        except ProtocolError as e:
            error = f"pipeline outcome cannot be sent: {e}"
            return Failed(job_id=job.job_id, error=error, traceback=traceback.format_exc()).to_frames(), error
