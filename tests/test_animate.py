"""boneabm animate (issue 17): a movie with one frame per spatial snapshot, of the size asked, MP4 through the
imageio-ffmpeg wheel's ffmpeg or GIF through Pillow; a file already there is never overwritten."""

import shutil

import imageio_ffmpeg
import pytest
from PIL import Image

import boneabm
from boneabm.cli import main

RUN = {"name": "movie", "seed": 2, "medium": {"rankl_ng_ml": 50}, "domain": {"width_um": 500, "height_um": 500},
       "time": {"duration_h": 24, "snapshot_every_h": 12, "spatial_every_h": 6}}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return boneabm.run(RUN, out=tmp_path_factory.mktemp("animate") / "run").path


def test_a_gif_has_a_frame_per_snapshot_and_the_figure_size(run_dir, tmp_path, capsys):
    out = tmp_path / "surface.gif"
    assert main(["animate", str(run_dir), "--out", str(out), "--layer", "rankl_free_ng_ml"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    with Image.open(out) as movie:
        assert movie.n_frames == 5  # 0, 6, 12, 18, 24 h
        assert movie.size == (600, 630)  # 6 x 6.3 in at 100 dpi
        first = movie.convert("RGB").getcolors(1 << 20)
        movie.seek(4)
        last = movie.convert("RGB").getcolors(1 << 20)
    assert len(first) > 20 and first != last  # drawn, and the frames differ


def test_an_mp4_by_default_into_the_runs_figures(run_dir):
    assert main(["animate", str(run_dir)]) == 0
    out = run_dir / "figures" / "surface.mp4"
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert frames == 5
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert meta["size"] == (600, 630)
    reader.close()
    assert main(["animate", str(run_dir)]) == 0  # boneabm's own file: replaced


def test_bad_input_is_refused_before_any_work(run_dir, tmp_path, capsys):
    existing = tmp_path / "mine.mp4"
    existing.write_bytes(b"a user's file")
    bare = tmp_path / "bare"
    shutil.copytree(run_dir, bare)
    shutil.rmtree(bare / "snapshots")
    for argv, named in ((["--out", str(existing)], "already exists"),
                        (["--out", str(tmp_path / "movie.avi")], "must end in .mp4 or .gif"),
                        (["--layer", "depth"], "--layer depth: one of mineral_depth_um"),
                        (["--fps", "0"], "--fps 0: give a positive number")):
        assert main(["animate", str(run_dir), *argv]) == 2
        err = capsys.readouterr().err
        assert named in err and "Traceback" not in err and err.count("\n") == 1
    assert existing.read_bytes() == b"a user's file"
    assert main(["animate", str(bare), "--out", str(tmp_path / "bare.gif")]) == 2
    assert "no spatial snapshots" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bare", "mine.mp4"]  # nothing written
