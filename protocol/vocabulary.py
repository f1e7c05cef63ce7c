"""The words every process shares: rating letters, ``ratinginfo`` codes, lifetimes.

These are part of the public SiteTruth API v3 contract (see
``docs/api.md``); outside clients depend on the exact strings, so
they live here, below every component, and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Rating", "RatingInfo", "FINAL_RATINGS", "RATING_TTL_SECONDS", "LOCATION_FIELDS"]


class Rating(StrEnum):
    """Rating letters, always upper case."""

    A = "A"  # ownership verified by an independent source
    Q = "Q"  # ownership identified (name + street address) but not verified
    X = "X"  # ownership unknown or questionable
    U = "U"  # not rated: non-commercial, no web site, invalid request, internal error
    W = "W"  # being rated: ask again in 5 s (HTTP item status "202")


# Letters a rater may return; W is only ever a frontend's answer.
FINAL_RATINGS = frozenset({Rating.A, Rating.Q, Rating.X, Rating.U})


class RatingInfo(StrEnum):
    """The ``ratinginfo`` codes of the API contract."""

    NONE = ""
    ERROR = "error"
    NO_DOMAIN = "no_domain"
    NO_WEBSITE = "no_website"
    BLOCKED = "blocked"
    NO_LOCATION = "no_location"
    NEGATIVE_INFO = "negative_info"
    NON_COMMERCIAL = "non_commercial"
    UNVERIFIED = "unverified"
    BAD_URL = "bad_url"


# A stored rating is served as final for this long, then refreshed.
RATING_TTL_SECONDS = 30 * 24 * 3600

# Keys of the business location (API v3) in the order the API lists them.
LOCATION_FIELDS = ("name", "street", "city", "region", "postcode", "country")
