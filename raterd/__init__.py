"""SiteTruth rater nodes: the supervisor, its workers and the site-rating pipeline."""

__all__ = []
