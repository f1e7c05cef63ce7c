"""One error root: every family our packages raise on purpose is a SiteTruthError."""

from __future__ import annotations

import importlib
import pickle

import pytest

from protocol.config import ConfigError
from protocol.errors import DomainError, ProtocolError, SiteTruthError
from protocol.vocabulary import RatingInfo


FAMILIES = [
    "protocol.errors:ProtocolError", "protocol.errors:DomainError", "protocol.config:ConfigError",
    "store.errors:StoreError", "store.errors:StoreUnavailable", "store.errors:StoreConfigError",
    "store.errors:SchemaError", "store.errors:InvalidRecord",
    "frontend.errors:FrontendError", "frontend.errors:HTTPError", "frontend.errors:FrontendConfigError",
    "frontend.errors:FastCGIError",
    "raterd._workerconfig:WorkerError", "raterd._workerconfig:PipelineLoadError",
    "raterd.sources._errors:SourceError", "raterd.sources._errors:SourceUnavailable",
    "protocol.client:BrokerUnavailable", "protocol.security:SecurityError",
    "raterd.fetch.errors:FetchError", "raterd.metrics:MetricsError",
]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_is_caught_by_the_root(family):
    module, _, name = family.partition(":")
    assert issubclass(getattr(importlib.import_module(module), name), SiteTruthError)


def test_catching_the_root_catches_a_real_store_failure(tmp_path):
    from store import open_store

    # A directory that does not exist: the store refuses with StoreConfigError.
    with pytest.raises(SiteTruthError) as caught:
        open_store(f"sqlite:///{tmp_path}/missing/dir/st.db").ping()
    assert "does not exist" in str(caught.value)


def test_value_error_callers_still_catch_domain_and_config_errors():
    # Older callers catch ValueError for bad input; the root must not take that away.
    assert issubclass(DomainError, ValueError) and issubclass(ConfigError, ValueError)
    error = DomainError(RatingInfo.BAD_URL, "http://[::1]/", "IP literal")
    assert isinstance(pickle.loads(pickle.dumps(error)), SiteTruthError)
    assert isinstance(pickle.loads(pickle.dumps(ProtocolError("bad frame", frame_index=2))), SiteTruthError)


def test_configuration_errors_of_every_program_are_one_family():
    from frontend.errors import FrontendConfigError
    from protocol.config import ConfigError

    assert issubclass(FrontendConfigError, ConfigError)
