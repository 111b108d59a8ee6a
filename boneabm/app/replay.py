"""The app's replay mode: a finished run (or any run of a sweep) from its spatial snapshots, with a time
slider."""

from __future__ import annotations

from pathlib import Path

import solara


@solara.component
def Replay(run_dirs: list[Path], title: str):
    from boneabm.api import load_run
    from boneabm.app.canvas import SeriesCanvas, SurfaceCanvas
    from boneabm.app.frames import LEGEND, PALETTE, MapImages, series_payload, surface_payload
    from boneabm.animate import layer_vmax
    from boneabm.draw import LAYERS
    from boneabm.snapshots import read_frame, snapshot_times

    names = [p.name for p in run_dirs]
    member, set_member = solara.use_state(names[0])
    index, set_index = solara.use_state(0)
    layer, set_layer = solara.use_state("mineral_depth_um")
    run_dir = run_dirs[names.index(member)]
    times = solara.use_memo(lambda: snapshot_times(run_dir), [run_dir])
    run = solara.use_memo(lambda: load_run(run_dir), [run_dir])
    # one colour scale over the whole run, so a map's change over time is what the slider shows
    vmax = solara.use_memo(lambda: {name: layer_vmax(run_dir, times, name) for name in LAYERS}, [run_dir])
    images = solara.use_memo(MapImages, [run_dir])
    domain = run.config["domain"]
    factors = [c for c in ("mcsf_ng_ml", "rankl_free_ng_ml", "opg_free_ng_ml") if c in run.timeseries]
    index = min(index, len(times) - 1)
    time_h = times[index]
    frame, image = surface_payload(read_frame(run_dir, time_h), layer, float(domain["grid_spacing_um"]), images,
                                   vmax=vmax[layer])
    # packed once a run: a slider's move sends the browser the time shown alone
    series = solara.use_memo(lambda: series_payload(
        {column: run.timeseries[column].to_numpy() for column in run.timeseries},
        domain["width_um"] * domain["height_um"] / 1e8, float(run.timeseries["time_h"].max()),
        float(run.timeseries[factors].max().max())), [run_dir])

    def choose_member(name):
        set_member(name)
        set_index(0)

    solara.Title(title)
    with solara.AppBar():
        solara.AppBarTitle(title)
    with solara.Sidebar():
        with solara.Card("Replay"):
            if len(names) > 1:
                solara.Select(label="run of the sweep", value=member, values=names, on_value=choose_member)
            solara.SliderInt(label="snapshot", value=index, min=0, max=len(times) - 1, on_value=set_index)
            solara.Text(f"simulated time: {time_h:g} h ({time_h / 24:.2f} d)", classes=["boneabm-time"])
            solara.Select(label="map layer", value=layer, values=list(LAYERS), on_value=set_layer)
            solara.Text(f"{run_dir}", style={"font-size": "0.75em"})
    with solara.Row(classes=["boneabm-views"], style={"flex-wrap": "wrap"}):
        with solara.Column(classes=["boneabm-surface"]):
            SurfaceCanvas(frame=frame, map=image, palette=PALETTE, legend=LEGEND)
        with solara.Column(classes=["boneabm-timeseries"]):
            SeriesCanvas(series=series, now_d=time_h / 24.0)
