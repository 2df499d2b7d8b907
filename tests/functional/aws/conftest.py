import pytest


@pytest.fixture
def mocked_aws(monkeypatch):
    """moto's in-memory AWS, with fake credentials, for the whole test."""
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield
