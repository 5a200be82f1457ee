import pytest

from tests.conftest import World
from tests.reporting.county import County, make_county


@pytest.fixture
def county(world: World) -> County:
    return make_county(world)
