"""Interactive figures for the web book, drawn with Plotly from trained models. They run in the static
HTML without a kernel: `show` embeds plotly.js in the page with the first figure of a notebook (so the
page needs no network), and on Colab, where every output is its own frame, loads it from the CDN.

Each figure function returns a `plotly.graph_objects.Figure`; the browser check
(tests/book/test_browser.py) hovers and scrubs every one of them on the built pages.
"""

from __future__ import annotations

import sys

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ..attention.translation import pad
from ..ntm.tasks import sample_batch
from . import plots

FONT = dict(size=13)
_embedded = False


def show(fig: go.Figure) -> None:
    """Display `fig` as HTML: plotly.js embedded once per notebook (from the CDN on Colab)."""
    from IPython.display import HTML, display

    global _embedded
    if "google.colab" in sys.modules:
        js = "cdn"
    else:
        js, _embedded = not _embedded, True
    config = {"displaylogo": False, "responsive": True}
    display(HTML(fig.to_html(full_html=False, include_plotlyjs=js, config=config)))


def _layout(fig: go.Figure, height: int, title: str = "", **kw) -> go.Figure:
    """Common layout. The title sits below Plotly's tool bar (which would cover it on a phone, where the
    figure is about 330 px wide); the browser check asserts that no two labels overlap there."""
    top = dict(text=title, x=0, xref="paper", xanchor="left", y=1, yref="container", yanchor="top", pad=dict(t=32))
    fig.update_layout(
        height=height,
        font=FONT,
        margin=dict(l=60, r=20, t=90 if title else 40, b=50),
        template="plotly_white",
        title=top,
        **kw,
    )
    return fig


# --- NTM ------------------------------------------------------------------------------------------


def ntm_weightings(model, cfg, size: int, title: str, seed: int = 2024) -> go.Figure:
    """The write and read weightings of one sequence, scrubbed through time: above, every step
    (location x time, a line at the chosen step); below, the two weightings at that step."""
    b = sample_batch(cfg, 1, torch.Generator().manual_seed(seed), "cpu", size=size)
    with torch.no_grad():
        _, tr = model(b["x"], trace=True)
    n_read = cfg.model.read_heads
    (write, read), labels = plots.visited_locations(tr["sharpened"][0, :, n_read], tr["sharpened"][0, :, 0])
    write, read = np.asarray(write), np.asarray(read)  # T x visited locations
    steps, locations = write.shape[0], [str(x) for x in labels]
    fig = make_subplots(
        rows=2,
        cols=2,
        row_heights=[0.55, 0.45],
        vertical_spacing=0.16,
        # Short titles: on a phone each panel is about 120 px wide.
        subplot_titles=("write", "read", "write at step", "read at step"),
    )
    for col, (name, w) in enumerate((("write", write), ("read", read)), start=1):
        fig.add_trace(
            go.Heatmap(
                z=w.T,
                x=list(range(steps)),
                y=locations,
                zmin=0,
                zmax=1,
                colorscale="Greys",
                showscale=False,
                hovertemplate=f"{name}<br>step %{{x}}<br>location %{{y}}<br>weight %{{z:.2f}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
    for col, (name, w) in enumerate((("write", write), ("read", read)), start=1):
        fig.add_trace(
            go.Bar(x=locations, y=w[0], marker_color="#1f77b4" if name == "write" else "#d62728", name=name),
            row=2,
            col=col,
        )
    fig.update_yaxes(type="category", row=1)  # labels wrap around (..., 127, 0, 1): not a number line
    fig.update_yaxes(title_text="location", row=1, col=1)
    fig.update_xaxes(title_text="time step", row=1)
    fig.update_xaxes(title_text="location", type="category", row=2)
    fig.update_yaxes(range=[0, 1], title_text="weight", row=2, col=1)
    fig.update_yaxes(range=[0, 1], row=2, col=2)

    def marks(t):
        return [
            dict(type="line", xref=f"x{i}", yref=f"y{i} domain", x0=t, x1=t, y0=0, y1=1, line=dict(color="#ff7f0e"))
            for i in ("", "2")
        ]

    # Each slider step restyles the two bar traces and moves the step lines ("update": no animation
    # frames, whose interrupted transitions leave stale bars behind).
    slider = dict(
        active=0,
        currentvalue=dict(prefix="time step "),
        pad=dict(t=70),
        steps=[
            dict(label=str(t), method="update", args=[{"y": [write[t], read[t]]}, {"shapes": marks(t)}, [2, 3]])
            for t in range(steps)
        ],
    )
    return _layout(fig, 680, title=title, shapes=marks(0), sliders=[slider], showlegend=False)


# --- attention ------------------------------------------------------------------------------------


def translation_alignment(model, data, index: int, max_out: int = 60) -> go.Figure:
    """One test sentence's alignment (output words x source words); hovering a cell names both words
    and the weight."""
    src = data["test"][index][0]
    out, weights = model.translate(pad([data["src"].encode(src)]), [len(src)], max_out)
    words = data["tgt"].decode(out[0].tolist()) + ["</s>"]
    w = weights[0, : len(words), : len(src)].numpy()
    # Plotly reads labels as HTML: "</s>" or "<unk>" would be taken for tags.
    src, words = ([t.replace("<", "&lt;").replace(">", "&gt;") for t in ts] for ts in (src, words))
    pairs = [[(s, o) for s in src] for o in words]
    fig = go.Figure(
        go.Heatmap(
            z=w,
            x=list(range(len(src))),
            y=list(range(len(words))),
            customdata=pairs,
            zmin=0,
            zmax=1,
            colorscale="Greys",
            colorbar=dict(thickness=12),  # no title: it would sit on the "1" of a 330 px wide figure
            hovertemplate="source: %{customdata[0]}<br>output: %{customdata[1]}<br>weight %{z:.2f}<extra></extra>",
        )
    )
    fig.update_xaxes(tickvals=list(range(len(src))), ticktext=src, tickangle=-60, title_text="source (English)")
    fig.update_yaxes(
        tickvals=list(range(len(words))), ticktext=words, autorange="reversed", title_text="output (French)"
    )
    return _layout(fig, max(360, 22 * len(words) + 200), title=f"sentence {index}: hover a cell")


# --- ACT ------------------------------------------------------------------------------------------


def act_against_tau(final_parity) -> go.Figure:
    """Error and ponder cost against tau, one point per network (hover: tau, seed, both numbers), the
    mean over seeds as a line and the networks without ACT as a dashed line."""
    act_rows = final_parity[final_parity["tau"] != "none"].astype({"tau": float})
    none = final_parity[final_parity["tau"] == "none"]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("held-out error", "ponder cost N + R"), horizontal_spacing=0.12)
    hover = "tau %{customdata[0]}<br>seed %{customdata[1]}<br>error %{customdata[2]:.3f}<br>ponder %{customdata[3]:.2f}"
    custom = [[f"{t:g}", s, e, p] for t, s, e, p in act_rows[["tau", "seed", "test_error", "test_ponder"]].to_numpy()]
    for col, metric in enumerate(("test_error", "test_ponder"), start=1):
        means = act_rows.groupby("tau")[metric].mean()
        fig.add_trace(
            go.Scatter(
                x=act_rows["tau"],
                y=act_rows[metric],
                mode="markers",
                customdata=custom,
                marker=dict(color="#1f77b4", opacity=0.5, size=8),
                name="a network",
                hovertemplate=hover + "<extra></extra>",
                showlegend=col == 1,
            ),
            row=1,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=means.index,
                y=means.values,
                mode="lines+markers",
                line=dict(color="#1f77b4"),
                name="mean over seeds",
                customdata=[f"{t:g}" for t in means.index],
                hovertemplate="tau %{customdata}<br>mean %{y:.3f}<extra></extra>",
                showlegend=col == 1,
            ),
            row=1,
            col=col,
        )
        fig.add_hline(y=none[metric].mean(), line_dash="dash", line_color="gray", row=1, col=col)
        # Four labelled decades, upright: Plotly's own choice (100μ, 0.001, ...) overlaps on a phone; the
        # range leaves the first one clear of the y axis's labels.
        decades = [1e-4, 1e-3, 1e-2, 1e-1]
        fig.update_xaxes(
            type="log",
            range=[np.log10(4e-5), np.log10(0.25)],
            title_text="time penalty tau",
            tickvals=decades,
            ticktext=["1e-4", "1e-3", "1e-2", "0.1"],
            tickangle=0,
            row=1,
            col=col,
        )
    # The panel titles are wider than a panel on a phone: lifted clear of the top y-tick labels.
    fig.update_annotations(yshift=10)
    return _layout(fig, 400, legend=dict(orientation="h", y=-0.3))
