"""The viewer's token map: the overlay of which tokens were sent, guessed or regenerated."""
import numpy as np
import pytest

from gic.app.main_window import TOKENS
from gic.app.qimage import TOKEN_COLOURS, tokens_to_rgba
from gic.codecs import registry
from gic.codecs.base import TOKEN_DROPPED, TOKEN_GUESSED, TOKEN_SENT


def test_token_states_become_blocks_of_colour():
    states = np.array([[TOKEN_SENT, TOKEN_GUESSED], [TOKEN_DROPPED, TOKEN_SENT]], dtype=np.uint8)
    rgba = tokens_to_rgba(states, 30, 40)  # blocks of 15 x 20, the last ones cut by the image edge
    assert rgba.shape == (30, 40, 4)
    assert (rgba[:15, :20] == TOKEN_COLOURS[TOKEN_SENT]).all() and rgba[0, 0, 3] == 0
    assert (rgba[:15, 20:] == TOKEN_COLOURS[TOKEN_GUESSED]).all()
    assert (rgba[15:, :20] == TOKEN_COLOURS[TOKEN_DROPPED]).all()


@pytest.fixture(scope="module")
def uigc_file(tmp_path_factory):
    """A bundled-model UIGC file at quality 2 (so the last layer drops tokens)."""
    if "uigc" not in registry.names():
        pytest.skip("the bundled UIGC prior (or its tokenizer) is not installed")
    from app_doubles import make_image

    p = tmp_path_factory.mktemp("uigc") / "tokens.gic"
    p.write_bytes(registry.create("uigc").encode(make_image(160, 128), 2))
    return p


@pytest.mark.slow
@pytest.mark.parametrize("window", [["uigc", "jpeg"]], indirect=True)
def test_token_map_shows_each_layers_token_states(qtbot, window, uigc_file):
    w = window
    assert not w.tokens_check.isEnabled()  # nothing open: no token states
    with qtbot.waitSignal(w.document_ready, timeout=60000):
        w.open_path(uigc_file)
    qtbot.waitUntil(lambda: w.tokens_check.isEnabled(), timeout=60000)
    assert not w.view.has_overlay(TOKENS)
    w.tokens_check.setChecked(True)
    assert w.view.has_overlay(TOKENS) and not w.tokens_legend.isHidden()
    w.show_layer(1)  # one layer read: most tokens are guesses
    first = w.view._overlays[TOKENS].pixmap().toImage()  # noqa: SLF001
    w.show_layer(7)  # all read: the rest were dropped and regenerated
    last = w.view._overlays[TOKENS].pixmap().toImage()  # noqa: SLF001
    assert first != last
    w.tokens_check.setChecked(False)
    assert not w.view.has_overlay(TOKENS) and w.tokens_legend.isHidden()


def test_encode_dialog_says_what_a_uigc_quality_drops(qtbot):
    from gic.app.encode_dialog import CodecInfo, EncodeDialog
    from gic.codecs.uigc import SPEC

    infos = [CodecInfo.from_spec(SPEC), CodecInfo.from_spec(registry.spec("jpeg"))]
    d = EncodeDialog(infos, ["cpu"], current_codec="uigc")
    qtbot.addWidget(d)
    d.quality_spin.setValue(3)
    assert d.quality_note.text() == "drops 37.5 % of tokens; ROI: 3 stages" and not d.quality_note.isHidden()
    d.quality_spin.setValue(5)
    assert d.quality_note.text() == "sends every token; ROI: 5 stages"
    d.codec_combo.setCurrentIndex(d.codec_combo.findData("jpeg"))
    assert d.quality_note.isHidden()  # a plain number needs no note
