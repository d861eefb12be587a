"""One BLAS thread for the integer path, restored afterwards (nested and concurrent users)."""
from gic.codecs.learned import blas


def test_one_blas_thread_lowers_and_restores_the_count():
    controls = blas._controls()
    if controls is None:  # numpy without OpenBLAS: the context does nothing
        with blas.one_blas_thread():
            return
    get, _ = controls
    before = get()
    with blas.one_blas_thread():
        assert get() == 1
        with blas.one_blas_thread():
            assert get() == 1
        assert get() == 1  # the outer user still holds it
    assert get() == before
