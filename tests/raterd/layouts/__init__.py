"""Fixture sites of the harder page layouts, rated through the real pipeline over HTTP(S) on loopback.

Each topic keeps its sites in its own ``sites_<topic>.py`` (a mapping of
domain -> :class:`tests.raterd.corpus.CorpusSite`, the corpus's own format)
and rates them in its own ``test_<topic>.py`` with the ``serve_layouts``
fixture of this package's ``conftest.py``, which puts the sites on the
session's fixture server, builds a sources index (the corpus sample
registers plus any companies the topic adds) and a loopback GLEIF API.
Domains must be unique across topics: they share one server.
"""
