"""Every output file is written all at once or not at all: a failure midway leaves the previous file whole.

Faults injected: the writer raising halfway (a bug, a plot that cannot render), a full disk (ENOSPC on
write and on fsync), the rename refused. Each time the old file is byte-identical and no temporary
file is left behind.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pytest

from capacity.common import files
from capacity.common.errors import InputError
from capacity.common.files import write_atomic
from capacity.learning.model_file import load_model, save_model
from capacity.learning.openmetrics import SampleSeries, write_openmetrics
from capacity.present.figure_file import save_figure
from tests.metrics.test_model_file import a_model
from tests.support.cli import capctl

OLD = b"the previous good file\n"


@pytest.fixture()
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "out.bin"
    path.write_bytes(OLD)
    return path


def assert_untouched(path: Path) -> None:
    assert path.read_bytes() == OLD
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary left


def test_a_writer_failing_midway_leaves_the_old_file(old_file: Path) -> None:
    def half_then_fail(out: BinaryIO) -> None:
        out.write(b"half of the new")
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_atomic(old_file, half_then_fail)
    assert_untouched(old_file)


def test_a_full_disk_leaves_the_old_file(old_file: Path) -> None:
    def disk_full(out: BinaryIO) -> None:
        out.write(b"x" * 4096)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(InputError, match=r"cannot write output file .*No space left on device"):
        write_atomic(old_file, disk_full)
    assert_untouched(old_file)


def test_a_failing_fsync_leaves_the_old_file(old_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(_: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", no_space)
    with pytest.raises(InputError, match="No space left"):
        write_atomic(old_file, b"new content")
    assert_untouched(old_file)


def test_a_refused_rename_leaves_the_old_file(old_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(files.os, "replace", refused)
    with pytest.raises(InputError, match="Read-only file system"):
        write_atomic(old_file, "new text")
    assert_untouched(old_file)


def test_a_successful_write_replaces_the_file_and_keeps_its_mode(old_file: Path) -> None:
    old_file.chmod(0o640)
    write_atomic(old_file, "nouveau contenu é\n")
    assert old_file.read_text(encoding="utf-8") == "nouveau contenu é\n"
    assert old_file.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in old_file.parent.iterdir()] == [old_file.name]


def test_a_new_file_gets_the_usual_permissions_not_mkstemps_0600(tmp_path: Path) -> None:
    path = tmp_path / "new.json"
    umask = os.umask(0o022)
    try:
        write_atomic(path, b"{}")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_fit_out_keeps_the_previous_model_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`capctl fit --out` over a good model: the write dies halfway, the good model still loads."""
    good = tmp_path / "model.json"
    model = a_model()
    save_model(model, good)
    before = good.read_bytes()
    real_fdopen = os.fdopen

    class DiesHalfway:
        def __init__(self, raw: BinaryIO) -> None:
            self.raw = raw

        def __enter__(self) -> DiesHalfway:
            return self

        def __exit__(self, *exc: object) -> None:
            self.raw.close()

        def write(self, data: bytes) -> int:
            self.raw.write(data[: len(data) // 2])
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(files.os, "fdopen", lambda fd, mode: DiesHalfway(real_fdopen(fd, mode)))
    with pytest.raises(InputError, match="cannot write model file"):
        save_model(model, good)
    assert good.read_bytes() == before
    assert load_model(good).fit_window == model.fit_window
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_synth_out_is_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "history.om"
    out.write_bytes(OLD)

    one = SampleSeries("ent_active_sessions", "gauge", {"plaque": "p"}, np.array([0, 60]), np.array([1.0, 2.0]))

    def dies_halfway() -> Iterator[SampleSeries]:
        yield one
        raise MemoryError("generator died halfway")

    with pytest.raises(MemoryError):
        write_openmetrics(dies_halfway(), out)
    assert out.read_bytes() == OLD
    assert write_openmetrics([one], out) == 2
    assert out.read_text(encoding="utf-8").endswith("# EOF\n")


def test_a_plot_that_fails_to_render_leaves_the_previous_image(tmp_path: Path) -> None:
    image = tmp_path / "plan.png"
    image.write_bytes(OLD)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()

    def broken_savefig(out: BinaryIO, **_: object) -> None:
        out.write(b"\x89PNG half an image")
        raise ValueError("cannot render")

    fig.savefig = broken_savefig  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="cannot render"):
        save_figure(fig, image, dpi=100)
    assert not plt.fignum_exists(fig.number)  # released even so
    assert image.read_bytes() == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["plan.png"]


def test_plan_plot_replaces_an_old_image_whole(tmp_path: Path) -> None:
    image = tmp_path / "plan.png"
    image.write_bytes(OLD)
    res = capctl("plan", "--date", "2021-04-26", "--plaque", "occitanie", "--plot", str(image))
    assert res.returncode == 0, res.stderr
    assert image.read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in tmp_path.iterdir()] == ["plan.png"]
