"""A plain (non-editable) install plans out of the box: the shipped policies, events and prior rates are package
data. The wheel is built offline and installed into a fresh virtualenv whose only other entries are the
dependencies already installed for the tests (no network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding capctl from its wheel; returns its python."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheels = list(dist.glob("capctl-*.whl"))
    assert len(wheels) == 1
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheels[0])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # the test venv's packages as plain path entries: its .pth files (the editable capctl) are not processed
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return python


def _run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPCTL_") and k != "PYTHONPATH"}
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = _run(installed, "-c", "import capacity; print(capacity.__file__)", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert str(REPO) not in where.stdout
    assert str(installed.parents[1]) in where.stdout


def test_a_plain_install_plans_26_april_2021_like_the_checkout(installed: Path, tmp_path: Path) -> None:
    wheel = _run(installed, "-m", "capacity", "plan", "--date", "2021-04-26", "-o", "json", cwd=tmp_path)
    assert wheel.returncode == 0, wheel.stderr
    here = _run(Path(sys.executable), "-m", "capacity", "plan", "--date", "2021-04-26", "-o", "json", cwd=REPO)
    assert here.returncode == 0, here.stderr
    planned, expected = json.loads(wheel.stdout), json.loads(here.stdout)
    assert planned["plaques"] == expected["plaques"]
    assert planned["policy_sha256"] == expected["policy_sha256"]


def test_a_plain_install_validates_its_shipped_policies(installed: Path, tmp_path: Path) -> None:
    checked = _run(installed, "-m", "capacity", "policy", "validate", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
