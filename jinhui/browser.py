"""A headless Chromium for the console's browser tests, installed from the npm registry.

`@sparticuz/chromium` ships a self-contained Chromium build (its binary and the few libraries
it needs, brotli-compressed); Playwright for Python drives it by path. Installing it needs
neither npm nor root: the package's tarball is read from the registry, checked against the
integrity the registry publishes, and unpacked into the virtualenv. Fonts come from the
project's own dependencies (Noto Sans CJK, for the Chinese the pages show).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

import brotli

PACKAGE = "@sparticuz/chromium"
VERSION = "153.0.0"
REGISTRY = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")
ARCHIVES = ("al2023.tar.br", "swiftshader.tar.br", "fonts.tar.br")
# As the package itself starts Chromium (no sandbox inside a container, software GL), minus
# what a closed network refuses: no background traffic, no component updates.
ARGS = [
    "--no-sandbox",
    "--no-zygote",
    "--single-process",
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--lang=zh-CN",
]


def home(venv: Path | None = None) -> Path:
    """Inside the virtualenv that runs the tests (`make clean` keeps it; a new venv refetches)."""
    return (venv or Path(sys.prefix)) / "chromium" / VERSION


def install(folder: Path | None = None) -> Path:
    """Unpack the browser once; a finished install is marked, a broken one is redone."""
    folder = folder or home()
    if (folder / ".installed").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    package = _download()
    with tarfile.open(fileobj=io.BytesIO(package)) as tar:
        for name in ("chromium.br", *ARCHIVES):
            member = tar.extractfile(f"package/bin/{name}")
            assert member is not None, name
            data = brotli.decompress(member.read())
            if name == "chromium.br":
                (folder / "chromium").write_bytes(data)
                (folder / "chromium").chmod(0o755)
            else:
                with tarfile.open(fileobj=io.BytesIO(data)) as inner:
                    inner.extractall(folder, filter="data")
    _fonts_conf(folder)
    (folder / ".installed").write_text(VERSION)
    return folder


def launch_options(folder: Path | None = None) -> dict[str, Any]:
    """What Playwright's `chromium.launch` needs to start this browser."""
    folder = folder or home()
    env = {
        **os.environ,
        "LD_LIBRARY_PATH": f"{folder / 'lib'}:{folder}",
        "FONTCONFIG_FILE": str(folder / "fonts.conf"),
    }
    return {"executable_path": str(folder / "chromium"), "args": ARGS, "env": env}


def _download() -> bytes:
    meta = _get(f"{REGISTRY}/{PACKAGE.replace('/', '%2f')}/{VERSION}")
    dist = json.loads(meta)["dist"]
    tarball = _get(dist["tarball"])
    algorithm, _, expected = dist["integrity"].partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if digest != expected:
        raise RuntimeError(f"{PACKAGE}@{VERSION}: the tarball does not match its integrity")
    return tarball


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=300) as answer:
        return bytes(answer.read())


def _fonts_conf(folder: Path) -> None:
    from noto_cjk_sans_otc import FONT_PATH

    (folder / "fonts.conf").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"  <dir>{folder / 'fonts'}</dir>\n"
        f"  <dir>{Path(FONT_PATH).parent}</dir>\n"
        f"  <cachedir>{folder / 'fonts-cache'}</cachedir>\n"
        "</fontconfig>\n"
    )


if __name__ == "__main__":
    print(install())
