import pytest

from fangkong.notify.testing import RobotServer


@pytest.fixture
def robot():
    with RobotServer() as server:
        yield server
