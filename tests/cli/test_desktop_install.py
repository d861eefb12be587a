"""Desktop integration (Linux): the shipped .desktop/MIME/thumbnailer files are valid, and
`gic install-desktop` registers them so that xdg-mime maps `.gic` files to application/x-gic.

The checks that need desktop-file-utils, libxml2-utils, shared-mime-info or xdg-utils (installed by
packaging/setup.sh) skip when the tool is absent.
"""
from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from gic.cli import desktop_install
from gic.cli import main as cli
from gic.codecs import container
from gic.resources import path

MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def need(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed (packaging/setup.sh installs it)")
    return exe


def xdg_env(data: Path, home: Path) -> dict[str, str]:
    """Only the temporary prefix is visible; no desktop is detected, so xdg-mime uses shared-mime-info."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "XDG_SESSION_DESKTOP", "KDE_FULL_SESSION",
                        "KDE_SESSION_VERSION", "GNOME_DESKTOP_SESSION_ID", "DE"}}
    env.update(XDG_DATA_HOME=str(data), XDG_DATA_DIRS=str(data), HOME=str(home))
    return env


def test_shipped_desktop_entry_is_valid():
    proc = subprocess.run([need("desktop-file-validate"), str(path("gic.desktop"))], capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_mime_xml_is_well_formed_and_declares_glob_and_magic():
    proc = subprocess.run([need("xmllint"), "--noout", str(path("gic-mime.xml"))], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    mime = ET.parse(path("gic-mime.xml")).getroot().find(f"{MIME_NS}mime-type")
    assert mime.get("type") == desktop_install.MIME_TYPE
    assert mime.find(f"{MIME_NS}glob").get("pattern") == "*.gic"
    match = mime.find(f"{MIME_NS}magic/{MIME_NS}match")
    value = match.get("value").encode("latin-1").decode("unicode_escape").encode("latin-1")
    assert value == container.MAGIC and match.get("offset") == "0" and match.get("type") == "string"


def test_thumbnailer_entry_names_the_thumbnail_command():
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(path("gic.thumbnailer"))
    section = entry["Thumbnailer Entry"]
    assert section["Exec"] == "gic thumbnail %i %o --size %s"
    assert section["MimeType"].rstrip(";") == desktop_install.MIME_TYPE


def test_icons_at_the_standard_sizes():
    for size in ICON_SIZES:
        with Image.open(path("icons", "hicolor", f"{size}x{size}", "apps", "gic.png")) as im:
            assert im.format == "PNG" and im.size == (size, size) and im.mode == "RGBA"
            alpha = im.getchannel("A")
            assert alpha.getpixel((0, 0)) == 0 and alpha.getpixel((size // 2, size // 2)) == 255


@pytest.mark.parametrize("arg, quoted", [("/opt/gic/gic", "/opt/gic/gic"),
                                         ("/home/a b/venv/bin/gic", '"/home/a b/venv/bin/gic"'),
                                         ('/x/"q"$', '"/x/\\"q\\"\\$"')])
def test_exec_arguments_are_quoted_per_the_spec(arg, quoted):
    assert desktop_install.exec_quote(arg) == quoted


def test_install_registers_the_type_in_a_temporary_prefix(tmp_path):
    """The real tools on a temp prefix: validate the installed entry (its Exec path has a space, to
    exercise the quoting), then ask xdg-mime about a `.gic` name and about the magic bytes alone.
    (The prefix itself has no space: xdg-mime's `query default` splits XDG_DATA_DIRS on blanks.)"""
    xdg_mime = need("xdg-mime")
    need("update-mime-database")
    if xdg_env(tmp_path, tmp_path).get("XDG_CURRENT_DESKTOP") is None:
        need("mimetype")  # xdg-mime's generic back end (libfile-mimeinfo-perl)
    prefix = tmp_path / "prefix"
    fake_gic = tmp_path / "my apps" / "gic"
    assert cli.main(["install-desktop", "--prefix", str(prefix), "--exec", f"'{fake_gic}'"]) == 0
    data = prefix / "share"
    entry = (data / "applications" / "gic.desktop").read_text()
    assert f'Exec="{fake_gic}" view %f' in entry
    thumb = (data / "thumbnailers" / "gic.thumbnailer").read_text()
    assert f'Exec="{fake_gic}" thumbnail %i %o --size %s' in thumb and f"TryExec={fake_gic}\n" in thumb
    if shutil.which("desktop-file-validate"):
        proc = subprocess.run(["desktop-file-validate", str(data / "applications" / "gic.desktop")],
                              capture_output=True, text=True)
        assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout
    for size in ICON_SIZES:
        assert (data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "gic.png").is_file()
    assert (data / "mime" / "application" / "x-gic.xml").is_file()  # update-mime-database ran

    named = tmp_path / "x.gic"
    named.write_bytes(path("samples", "kodim23.gic").read_bytes())
    unnamed = tmp_path / "no_suffix"
    unnamed.write_bytes(container.MAGIC + b"\0" * 64)
    env = xdg_env(data, tmp_path)

    def query(*args: str, check: bool = True) -> str:
        proc = subprocess.run([xdg_mime, "query", *args], capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0 or not check, proc.stderr
        return proc.stdout.strip()

    assert query("filetype", str(named)) == "application/x-gic"
    assert query("filetype", str(unnamed)) == "application/x-gic"  # by the magic bytes
    if shutil.which("update-desktop-database"):
        assert query("default", "application/x-gic") == "gic.desktop"

    assert cli.main(["install-desktop", "--prefix", str(prefix), "--uninstall"]) == 0
    assert not (data / "applications" / "gic.desktop").exists()
    assert not (data / "mime" / "packages" / "gic.xml").exists()
    assert not list((data / "icons").rglob("gic.png"))
    assert query("filetype", str(named), check=False) != "application/x-gic"  # the caches were rebuilt


def test_default_command_is_the_running_gic(monkeypatch, tmp_path):
    fake_python = tmp_path / "bin" / "python"
    fake_python.parent.mkdir()
    monkeypatch.setattr("sys.executable", str(fake_python))
    assert desktop_install.gic_command() == [str(fake_python), "-m", "gic.cli"]
    (tmp_path / "bin" / "gic").write_text("#!/bin/sh\n")
    assert desktop_install.gic_command() == [str(tmp_path / "bin" / "gic")]
    monkeypatch.setattr("sys.frozen", True, raising=False)
    assert desktop_install.gic_command() == [str(fake_python.resolve())]
