from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import World
from tests.housing.helpers import Housing, make_housing, make_limits


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def housing(world: World) -> Housing:
    found = make_housing(world)
    make_limits(found)
    return found
