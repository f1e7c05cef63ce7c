"""Broker settings: every option declared once, with the reason for its default.

Each field declared with :func:`protocol.config.option` is a flag of
``sitetruth-broker`` (``max_unacked`` -> ``--max-unacked``), an environment
twin (``SITETRUTH_MAX_UNACKED``) and a key of the ``--config`` TOML file;
see :mod:`protocol.config` for how to add one. Tests build a
:class:`BrokerConfig` directly.

The key options name files and directories only; :meth:`BrokerConfig.load_keyset`
reads them into the :class:`~protocol.security.KeySet` the broker's
authenticator uses (``sitetruth-broker`` does that once at start).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from protocol.config import ConfigError, option
from protocol.security import KeyFileError, KeySet, keyset_from_options
from protocol.wire import MAX_BODY_BYTES

from .metrics import metrics_listen

__all__ = ["BrokerConfig"]

_SOCKETS, _DELIVERY, _STORE = "sockets", "delivery and leases", "ratings and the store"
_SECURITY = "security (CURVE keys; see docs/security.md)"


@dataclass(frozen=True)
class BrokerConfig:
    store: str = option("sqlite:///./sitetruth.db", metavar="URL",
                        help="store URL: mysql://user:pass@host/db or sqlite:///path")
    bind_clients: str = option("tcp://127.0.0.1:7710", metavar="ENDPOINT", group=_SOCKETS,
                               help="socket for frontends and zmq-monitor")
    bind_raters: str = option("tcp://127.0.0.1:7711", metavar="ENDPOINT", group=_SOCKETS,
                              help="socket for raters")
    # Outstanding (queued + in flight) jobs one client IP may own; over it the
    # request gets an overload reply (HTTP 502 at the frontend).
    max_per_ip: int = option(100, metavar="N", group=_DELIVERY,
                             help="outstanding jobs per client IP before requests are refused as overload")
    # Dispatches that may end without a RESULT before the job is stored as
    # U/error with its traceback in the error log.
    max_attempts: int = option(3, metavar="N", group=_DELIVERY,
                               help="dispatches without a result before a job is stored as U/error")
    # Raters and broker heartbeat each other this often; a rater silent for
    # ``liveness`` seconds is dead and its jobs go back to the queue.
    heartbeat: float = option(1.0, metavar="S", group=_DELIVERY, help="heartbeat interval in seconds")
    liveness: float = option(5.0, metavar="S", group=_DELIVERY,
                             help="a rater silent this many seconds is dead; its jobs are re-queued")
    # A job's lease: how long a rater may go without a PULSE. The rating
    # deadline is 30 s and raters pulse every page, so 20 s of silence means
    # a hung rating. ``max_job`` is the ceiling pulses cannot stretch.
    lease: float = option(20.0, metavar="S", group=_DELIVERY,
                          help="a job without progress (PULSE) for this long is re-queued")
    max_job: float = option(120.0, metavar="S", group=_DELIVERY,
                            help="hard ceiling on one rating in seconds, progress or not")
    # Sent to raters with each JOB: the rating's own deadline.
    rating_deadline: float = option(30.0, metavar="S", group=_DELIVERY,
                                    help="deadline in seconds sent to raters with each job")
    # Ratings stay valid this long; error ratings are retried much sooner so
    # one bad day of a site (or of ours) does not stick for a month.
    rating_ttl: float = option(30 * 24 * 3600.0, metavar="S", group=_STORE, default_text="2592000 = 30 days",
                               help="seconds a rating stays valid before it is rated again")
    error_ttl: float = option(24 * 3600.0, metavar="S", group=_STORE, default_text="86400 = 1 day",
                              help="seconds a U/error rating stays before the site is tried again")
    # How many recent completions the stats keep.
    recent: int = option(50, metavar="N", group=_STORE, help="recent completions kept for zmq-monitor")
    # Prometheus metrics (broker.metrics) on a port of their own, off by
    # default: the per-IP queue series name client addresses, so the operator
    # chooses who may reach them.
    metrics: str = option("", metavar="HOST:PORT", parse=metrics_listen, default_text="off", group=_SOCKETS,
                          help="serve the broker's Prometheus metrics on http://HOST:PORT/metrics (port 0: any)")
    # Largest frame the sockets accept (libzmq drops bigger messages and the
    # peer's connection before Python sees them).
    max_message: int = option(2 * 1024 * 1024, metavar="BYTES", group=_SOCKETS,
                              help="largest message the sockets accept; bigger ones drop the peer")
    # Group commit: at a light, steady load each request's enqueue is a
    # commit of its own; waiting a few milliseconds lets several share one,
    # at that cost in acknowledgement time (never in dispatch, which does not
    # wait for the commit). 0: commit at once.
    commit_delay: float = option(0.0, metavar="S", group=_STORE,
                                 help="wait up to this long (e.g. 0.01) for more writes before a commit when the "
                                      "store is idle; less broker CPU per job at a light steady load, that much "
                                      "later acknowledgements")
    # Enqueue batches waiting for their commit before new work is refused as
    # "unavailable": a slow store must push back, not grow our memory.
    max_unacked: int = option(2000, metavar="N", group=_STORE,
                              help="requests waiting for the store's commit before new work is refused")
    # A domain whose rating committed this many seconds ago gets no second
    # job: a request for it (a frontend reading a lagging replica, a poll
    # racing the commit) is answered "being rated", so the asker looks again.
    recently_rated: float = option(60.0, metavar="S", group=_DELIVERY,
                                   help="seconds after a rating commits during which its domain gets no new job")
    # Bounds on what client requests can make the broker hold. A live job
    # costs ~0.5 KB, an IP queue a little more; past a cap the request gets
    # an overload reply (HTTP 502 at the frontend). With keys, one client key
    # may fill at most ``key_share`` of each cap, so a flooding (or stolen)
    # frontend key leaves room for the others.
    max_live_jobs: int = option(200_000, metavar="N", group=_DELIVERY,
                                help="live (queued + in flight) jobs in all, before requests get an overload reply")
    max_queues: int = option(20_000, metavar="N", group=_DELIVERY,
                             help="client-IP queues in all, before a new client IP gets an overload reply")
    key_share: float = option(0.5, metavar="FRACTION", group=_DELIVERY,
                              help="share of --max-live-jobs and --max-queues one client key may fill (with CURVE)")
    # Error reports from raters: each key (or, without keys, each rater
    # identity) may file this many a minute, each traceback clipped to
    # ``max_traceback`` characters; the journal keeps at most
    # ``error_buffer_bytes`` of error records in memory while the store is
    # down, and deletes error-log rows older than ``error_log_days``.
    error_reports_per_min: int = option(10, metavar="N", group=_STORE,
                                        help="error reports one rater key may file per minute (more are dropped)")
    max_traceback: int = option(16_000, metavar="CHARS", group=_STORE,
                                help="longest traceback kept from an error report or FAILED (clipped beyond)")
    error_buffer_bytes: int = option(8 * 1024 * 1024, metavar="BYTES", group=_STORE,
                                     help="error records held in memory while the store is down (oldest dropped)")
    error_log_days: float = option(30.0, metavar="DAYS", group=_STORE,
                                   help="error-log rows older than this are deleted by the broker")
    # Messages queued for one rater before sends to it count as "full".
    rater_hwm: int = option(10_000, metavar="N", group=_SOCKETS,
                            help="messages queued for one rater before it counts as busy")
    # How long the journal may go without a commit while writes wait before
    # the broker stops acknowledging new work (a hung store must push back).
    stall_after: float = option(30.0, metavar="S", group=_STORE,
                                help="seconds without a commit, writes waiting, before new work is refused")
    # Hot standby: how long a silent broker keeps the store's lock (MariaDB
    # ends its session after that long). The active broker stops serving
    # after half of it without an answer from the store, so it is fenced
    # before a standby can take over.
    lock_timeout: float = option(10.0, metavar="S", group=_STORE,
                                 help="seconds the store keeps a silent broker's lock before a standby may take "
                                      "over; the active broker stops serving after half of it without the store")
    # Retry-After (seconds) suggested in "unavailable" replies.
    retry_after: float = option(5.0, metavar="S", group=_STORE,
                                help="Retry-After seconds suggested when the broker refuses work")

    # CURVE on both sockets: the broker's own pair and one directory of
    # allowed public keys per role (a key's name is its file's stem, which
    # logs, stats and the audit trail show). Keys added to a directory are
    # picked up at the next handshake, without a restart.
    curve_secret: str | None = option(None, metavar="FILE", group=_SECURITY,
                                      help="the broker's CURVE secret key file (broker.key_secret, mode 0600)")
    rater_keys: str | None = option(None, metavar="DIR", group=_SECURITY,
                                    help="directory of the public keys (NAME.key) of rater nodes")
    client_keys: str | None = option(None, metavar="DIR", group=_SECURITY,
                                     help="directory of the public keys of frontends")
    admin_keys: str | None = option(None, metavar="DIR", group=_SECURITY,
                                    help="directory of the public keys of zmq-monitor operators")
    # Without keys the broker binds loopback endpoints only: anyone who can
    # reach a socket could store ratings and steer the queue. This says the
    # network is trusted anyway (a lab, a private link); the start-up line
    # says INSECURE.
    insecure: bool = option(False, group=_SECURITY,
                            help="without keys, bind endpoints other machines can reach anyway")

    def load_keyset(self) -> KeySet | None:
        """The key files read now (None: no keys, insecure mode); ConfigError with the loader's message."""
        try:
            # An empty value (SITETRUTH_CURVE_SECRET= in a unit file) means "not given".
            return keyset_from_options(self.curve_secret or None, rater_keys=self.rater_keys or None,
                                       client_keys=self.client_keys or None, admin_keys=self.admin_keys or None)
        except KeyFileError as e:
            raise ConfigError(str(e)) from e

    def check(self) -> BrokerConfig:
        """Raise ConfigError for values no broker could run with; return self."""
        at_least_one = ("max_per_ip", "max_attempts", "max_unacked", "max_live_jobs", "max_queues",
                        "error_reports_per_min", "rater_hwm")
        positive = ("heartbeat", "liveness", "lease", "max_job", "rating_deadline", "rating_ttl", "error_ttl",
                    "retry_after", "error_log_days", "stall_after", "recently_rated", "lock_timeout")
        for f in fields(self):
            value = getattr(self, f.name)
            flag = "--" + f.name.replace("_", "-")
            if f.name in at_least_one and value < 1:
                raise ConfigError(f"{flag} must be at least 1, not {value}")
            if f.name in positive and not value > 0:
                raise ConfigError(f"{flag} must be more than 0 seconds, not {value}")
        if not 0 < self.key_share <= 1:
            raise ConfigError(f"--key-share must be more than 0 and at most 1, not {self.key_share}")
        if self.max_traceback < 200:
            raise ConfigError(f"--max-traceback must be at least 200 characters, not {self.max_traceback}")
        if self.error_buffer_bytes < 64 * 1024:
            raise ConfigError(f"--error-buffer-bytes must be at least 65536, not {self.error_buffer_bytes}")
        if not 0 <= self.commit_delay <= 1:
            raise ConfigError(f"--commit-delay must be between 0 and 1 second, not {self.commit_delay}")
        if self.recent < 0:
            raise ConfigError(f"--recent must not be negative, not {self.recent}")
        if self.max_message < MAX_BODY_BYTES:
            # Smaller would drop messages the protocol allows (a rater's error report).
            raise ConfigError(f"--max-message must be at least {MAX_BODY_BYTES} bytes (the largest message body), "
                              f"not {self.max_message}")
        if self.liveness <= self.heartbeat:
            raise ConfigError(f"--liveness ({self.liveness}) must be longer than --heartbeat ({self.heartbeat})")
        return self
