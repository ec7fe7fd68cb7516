def test_world(world):
    assert world.project.memberships.count() == 4
