"""Run the real `gic view` event loop in a child process and quit it in the middle of work.

Usage: python quit_driver.py encode|decode stuck|prompt WORKDIR

`stuck` holds the job inside one step for 10 s (a step that cannot see its cancel flag), `prompt`
releases it 0.3 s after the quit (a job that stops at its next check). Prints what happened as
`key=value` lines; the test reads them and the exit status. A modal box would wait forever
offscreen, so QMessageBox.exec answers "quit without saving" and says it was asked.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
mode, hold_mode, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
os.environ["GIC_SETTINGS_DIR"] = str(work / "settings")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from app_doubles import TEST_CODEC, JpegLadderCodec, make_image  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from gic.app import jobs, view_command  # noqa: E402
from gic.codecs import registry  # noqa: E402

registry.register(registry.CodecSpec.of(JpegLadderCodec, "test"))
image = make_image()
if mode == "encode":
    target = work / "orig.png"
    Image.fromarray(image).save(target)
else:
    target = work / "sample.gic"
    target.write_bytes(JpegLadderCodec().encode(image, 4))
JpegLadderCodec.hold = threading.Event()  # the job pauses before its second layer


def answer(box):
    print("asked=" + box.text().replace("\n", " "), flush=True)
    return QMessageBox.StandardButton.Discard


QMessageBox.exec = answer
app = QApplication([sys.argv[0]])
state = {"started": False}  # the encode was asked for


def quit_when_working() -> None:
    w = next((t for t in app.topLevelWidgets() if t.objectName() == "" and hasattr(t, "encode_runner")), None)
    if w is None or w.doc is None:
        return
    if mode == "encode" and not state["started"] and w.doc.original is not None and w.codec_infos:
        state["started"] = True
        w.reencode(jobs.EncodeRequest(codec=TEST_CODEC, quality=4))
        return
    runner = w.encode_runner if mode == "encode" else w.decode_runner
    if runner.is_busy() and (mode == "encode" or w.previews):
        poll.stop()
        if hold_mode == "prompt":
            threading.Timer(0.3, JpegLadderCodec.hold.set).start()
        print(f"closing_at={time.time():.3f}", flush=True)
        w.close()


poll = QTimer()
poll.timeout.connect(quit_when_working)
poll.start(50)
args = view_command.argparse.Namespace(file=str(target), screenshot=None, tab="viewer", original=None, size=None)
sys.exit(view_command.run(args))
