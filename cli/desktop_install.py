"""`gic install-desktop`: register the viewer, the `.gic` MIME type, icons and thumbnailer (Linux).

Copies the freedesktop files shipped in gic.resources into a data folder — the user's
($XDG_DATA_HOME, default ~/.local/share), the system's (/usr/local/share) or PREFIX/share — with
`Exec=` pointing at the `gic` that runs this (a venv's or a bundle's, which a desktop session's
PATH usually lacks), then refreshes the caches with update-mime-database and
update-desktop-database when they are installed. No Qt; safe to re-run; `--uninstall` undoes it.
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

MIME_TYPE = "application/x-gic"
APP_ID = "gic"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for this user (the default): $XDG_DATA_HOME "
                       "or ~/.local/share")
    where.add_argument("--system", action="store_true", help="for every user: /usr/local/share (needs root)")
    where.add_argument("--prefix", metavar="DIR", help="into DIR/share (packagers, tests)")
    parser.add_argument("--exec", dest="command", metavar="CMD",
                        help="the command that starts gic (default: the one running now)")
    parser.add_argument("--uninstall", action="store_true", help="remove what an install added")
    parser.add_argument("--no-update", action="store_true",
                        help="do not run update-mime-database / update-desktop-database")


def data_dir(args: argparse.Namespace) -> Path:
    """The XDG data folder the files go to."""
    if args.prefix:
        return Path(args.prefix).expanduser().resolve() / "share"
    if args.system:
        return Path("/usr/local/share")
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def gic_command() -> list[str]:
    """argv that starts this gic from a desktop session: the bundle's executable, the venv's `gic`
    script beside this interpreter, or this interpreter running the CLI module."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    script = Path(sys.executable).parent / "gic"
    if script.is_file():
        return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "gic.cli"]


def exec_quote(arg: str) -> str:
    """Quote one Exec= argument as the Desktop Entry spec wants (double quotes, \\-escapes)."""
    reserved = set(' \t\n"\'\\><~|&;$*?#()`')
    if arg and not reserved & set(arg):
        return arg
    inner = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{inner}"'


def with_command(text: str, command: list[str]) -> str:
    """The entry file with `gic` at the start of Exec=/TryExec= replaced by `command`."""
    quoted = " ".join(exec_quote(a) for a in command)
    out = []
    for line in text.splitlines():
        if line.startswith("Exec=gic "):
            line = f"Exec={quoted} " + line[len("Exec=gic "):]
        elif line == "TryExec=gic":
            line = f"TryExec={command[0]}"  # TryExec is one path, unquoted
        out.append(line)
    return "\n".join(out) + "\n"


def planned_files(data: Path) -> dict[Path, Path | None]:
    """Destination → source (None: written from a template) of everything an install writes."""
    from gic.resources import path

    icons = path("icons")
    files: dict[Path, Path | None] = {
        data / "applications" / f"{APP_ID}.desktop": None,
        data / "thumbnailers" / f"{APP_ID}.thumbnailer": None,
        data / "mime" / "packages" / f"{APP_ID}.xml": path("gic-mime.xml"),
        data / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg": icons / "gic.svg",
        data / "icons" / "hicolor" / "scalable" / "mimetypes" / "application-x-gic.svg": icons / "gic.svg",
    }
    for png in sorted((icons / "hicolor").glob("*/apps/gic.png")):
        size = png.parent.parent.name
        files[data / "icons" / "hicolor" / size / "apps" / f"{APP_ID}.png"] = png
        files[data / "icons" / "hicolor" / size / "mimetypes" / "application-x-gic.png"] = png
    return files


def _write(dest: Path, content: bytes) -> None:
    from gic.codecs.fileio import write_atomic

    dest.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(dest, content)


def _refresh(data: Path, quiet: bool = True) -> list[str]:
    """Rebuild the MIME and desktop caches (and the icon cache, when GTK's tool is there)."""
    done = []
    steps = [
        ("update-mime-database", [str(data / "mime")]),
        ("update-desktop-database", ["-q", str(data / "applications")]),
        ("gtk-update-icon-cache", ["-q", "-t", "-f", str(data / "icons" / "hicolor")]),
    ]
    for tool, tool_args in steps:
        exe = shutil.which(tool)
        if exe is None:
            continue
        proc = subprocess.run([exe, *tool_args], capture_output=True, text=True)
        if proc.returncode != 0:
            from gic.codecs.errors import GicError

            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise GicError(f"{tool} failed: {tail}")
        done.append(tool)
    return done


def install(data: Path, command: list[str], update: bool = True) -> list[Path]:
    """Copy every file into `data`, then refresh the caches; returns the files written."""
    from gic.resources import path

    written = []
    for dest, source in planned_files(data).items():
        if source is None:
            template = path(dest.name.replace(APP_ID, "gic", 1)).read_text(encoding="utf-8")
            content = with_command(template, command).encode("utf-8")
        else:
            content = source.read_bytes()
        _write(dest, content)
        written.append(dest)
    if update:
        _refresh(data)
    return written


def uninstall(data: Path, update: bool = True) -> list[Path]:
    """Remove the files an install writes (and nothing else); returns those removed."""
    removed = []
    for dest in planned_files(data):
        if dest.is_file():
            dest.unlink()
            removed.append(dest)
    if update and (data / "mime").is_dir():
        _refresh(data)
    return removed


def run(args: argparse.Namespace) -> int:
    data = data_dir(args)
    update = not args.no_update
    if args.uninstall:
        removed = uninstall(data, update)
        print(f"removed {len(removed)} files from {data}")
        return 0
    command = shlex.split(args.command) if args.command else gic_command()
    if not command:
        from gic.codecs.errors import GicError

        raise GicError("--exec must name a command")
    written = install(data, command, update)
    print(f"installed {len(written)} files into {data} (Exec: {' '.join(command)})")
    if not update:
        print("caches not refreshed (--no-update): run update-mime-database and update-desktop-database")
    return 0
