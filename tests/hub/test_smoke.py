from agencies.models import Agency, Workspace
from hub import access


def test_world_builds(world):
    assert set(access.visible(world.alice, Workspace)) == {world.workspace}
    assert world.immigration not in access.visible(world.alice, Agency)
    assert set(access.visible(world.olga, Agency)) == {world.immigration}
