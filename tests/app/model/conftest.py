"""The model's tests need no Qt: the app folder's Qt guards (leftover jobs, modal boxes) are
replaced by no-ops here, so these tests run (and fail) on their own without PySide6."""
import pytest


@pytest.fixture(autouse=True)
def no_leftover_work():
    yield


@pytest.fixture(autouse=True)
def message_boxes():
    return None
