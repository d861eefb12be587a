"""The viewer's token map: the overlay of which tokens were sent, guessed or regenerated."""
import numpy as np

from gic.app.qimage import TOKEN_COLOURS, tokens_to_rgba
from gic.codecs.base import TOKEN_DROPPED, TOKEN_GUESSED, TOKEN_SENT


def test_token_states_become_blocks_of_colour():
    states = np.array([[TOKEN_SENT, TOKEN_GUESSED], [TOKEN_DROPPED, TOKEN_SENT]], dtype=np.uint8)
    rgba = tokens_to_rgba(states, 30, 40)  # blocks of 15 x 20, the last ones cut by the image edge
    assert rgba.shape == (30, 40, 4)
    assert (rgba[:15, :20] == TOKEN_COLOURS[TOKEN_SENT]).all() and rgba[0, 0, 3] == 0
    assert (rgba[:15, 20:] == TOKEN_COLOURS[TOKEN_GUESSED]).all()
    assert (rgba[15:, :20] == TOKEN_COLOURS[TOKEN_DROPPED]).all()
