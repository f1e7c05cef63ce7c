"""SiteTruth rater nodes: the supervisor, its workers and the site-rating pipeline.

``sitetruth-raterd --broker ENDPOINT`` (:mod:`raterd.cli`) runs one node::

    supervisor (raterd.supervisor)          starts N workers at --nice, restarts crashed ones with
      |  control socketpair per worker      backoff, recycles them (replacement registered first)
      v
    worker process (raterd.worker)  --DEALER: READY / JOB / PULSE / RESULT-->  broker
      |  rating thread
      v
    SitePipeline.rate(domain) (raterd.pipeline)
      fetch/      safe, deadline-bound page fetching (SSRF guard, byte caps, robots.txt, TLS facts)
      extract/    what a page says: organisation, addresses, phones, registration numbers, selling
      sources/    business registries, blocklists, the remote GLEIF lookup
      findings    what a rating found, and the evidence to show for it
      rules       findings -> rating letter and ratinginfo

Raters hold no database credentials: results, progress and error reports
(with tracebacks) go to the broker. Only :mod:`protocol` is imported from
the rest of the system.

The subpackages and modules are imported on demand (``from raterd import
pipeline``); nothing is loaded here, so a worker process starts quickly.
"""

__all__ = [
    "fetch",
    "extract",
    "sources",
    "findings",
    "rules",
    "pipeline",
    "worker",
    "supervisor",
    "cli",
]
