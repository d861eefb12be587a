import numpy as np

from gic.codecs.uigc.schedule import NUM_STEPS, step_map


def test_steps_partition_the_grid_coarse_to_fine():
    m = step_map(32, 48)
    counts = np.bincount(m.ravel(), minlength=NUM_STEPS)
    assert counts.sum() == 32 * 48
    assert list(counts * 64 // (32 * 48)) == [1, 1, 2, 4, 8, 16, 32]


def test_last_step_is_the_checkerboard_half():
    y, x = np.mgrid[0:9, 0:13]
    assert ((step_map(9, 13) == NUM_STEPS - 1) == ((y + x) % 2 == 1)).all()


def test_each_step_only_needs_earlier_neighbours():
    # every position of step >= 3 has a 4- or diagonal neighbour (at its spacing) decoded earlier
    m = step_map(16, 16)
    for y in range(1, 15):
        for x in range(1, 15):
            if m[y, x] >= 5:
                near = m[y - 1:y + 2, x - 1:x + 2]
                assert (near < m[y, x]).any()
