"""The live Gram heatmap follows the theme when it is switched at run time (issue 10).

Streamlit 1.67's main menu (⋮) offers System, Light and Dark; "System" follows the
browser's `prefers-color-scheme` live. The component (ui/components/live_heatmap.*)
draws on canvases with the theme's colours (`--st-*` CSS variables, which
`st.components.v2` sets on its host), so a switch must repaint them: read here as a
user sees it, from the canvas pixels and computed styles, against Streamlit's own
text and slider colours in the same theme.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.themes import assert_theme, choose_theme, luminance, page_colors, rgb

pytestmark = pytest.mark.e2e

# The heatmap canvas's margins, as live_heatmap.js lays it out (layout()): plot area
# from (L, T), `plot` px square; the colour bar starts 14 px right of it, 14 px wide.
L, T, R, BAR_GAP = 52, 34, 78, 14

LOOK = """(root, m) => {
  const q = s => root.querySelector(s), css = e => getComputedStyle(e);
  const heat = q('canvas.heatmap'), hist = q('canvas.hist');
  const dpr = window.devicePixelRatio || 1;
  const opaque = (c, y0, y1) => {  // colours of the (nearly) opaque pixels in rows y0..y1 (CSS px)
    const d = c.getContext('2d').getImageData(0, Math.round(y0 * dpr), c.width, Math.round((y1 - y0) * dpr)).data;
    const out = [];
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] >= 200) out.push([d[i], d[i + 1], d[i + 2]]);
    return out;
  };
  const px = (c, x, y) => Array.from(c.getContext('2d').getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data);
  const w = heat.width / dpr, h = heat.height / dpr, plot = Math.max(120, w - m.L - m.R);
  const hh = hist.height / dpr;
  return {
    frames: Number(heat.dataset.frames),
    heatmapText: opaque(heat, 0, 13),            // "column j (display order)"
    histText: opaque(hist, hh - 28, hh),          // tick labels and "k(xᵢ, xⱼ), i ≠ j"
    barFrame: px(heat, m.L + plot + m.GAP - 1, m.T + plot / 2),
    plotFrame: px(heat, m.L - 1, m.T + plot / 2),
    corner: px(heat, w - 1, h - 1),
    label: css(q('.gamma-label')).color, value: css(q('.gamma-value')).color,
    status: css(q('.status')).color, ends: css(q('.ends')).color,
    track: css(q('.track')).backgroundColor, thumb: css(q('.thumb')).backgroundColor,
    border: css(heat).getPropertyValue('--st-border-color'),
  };
}"""


def close(a, b, tol: int = 2) -> bool:
    return max(abs(x - y) for x, y in zip(a, b)) <= tol


def component_look(app) -> dict:
    """What the live heatmap shows, read inside its shadow root."""
    return app.page.locator("canvas.heatmap").evaluate(f"(c, m) => ({LOOK})(c.getRootNode(), m)",
                                                       {"L": L, "R": R, "T": T, "GAP": BAR_GAP})


def streamlit_slider_accent(app) -> tuple[int, int, int]:
    """The accent of Streamlit's own slider (the sidebar's N slider writes its value in it)."""
    value = app.sidebar.get_by_test_id("stSliderThumbValue").first
    return rgb(value.evaluate("e => getComputedStyle(e).color"))


def wait_repainted(app, frames: int) -> None:
    """The heatmap drew at least one more frame since `frames`, then the app settled."""
    canvas = app.page.locator("canvas.heatmap")
    expect(canvas).not_to_have_attribute("data-frames", str(frames))
    app.wait_idle()
    expect(canvas).to_have_attribute("data-shown", "exact")


def assert_component_follows(app, theme: str) -> dict:
    """The component's text, slider and frames are the theme's, as Streamlit draws its own."""
    page = assert_theme(app, theme)
    text, background = page["text"], page["background"]
    look = component_look(app)
    for where in ("heatmapText", "histText"):
        pixels = look[where]
        assert len(pixels) > 20, f"no axis text drawn on the {where} canvas"
        off = [p for p in pixels if not close(p, text, 3)]
        # Opaque pixels of anti-aliased text are the fill colour; the only others would be
        # a stray chart pixel. All of them must be the theme's text colour.
        assert not off, f"{theme}: {where} drawn in {off[:3]}, Streamlit's text is {text}"
    for part in ("label", "value", "status", "ends"):
        assert close(rgb(look[part]), text), f"{theme}: .{part} is {look[part]}, Streamlit's text is {text}"
    accent = streamlit_slider_accent(app)
    assert close(rgb(look["thumb"]), accent), f"{theme}: thumb {look['thumb']}, Streamlit's slider {accent}"
    border = rgb(look["border"])
    assert close(look["barFrame"][:3], border) and look["barFrame"][3] == 255, look["barFrame"]
    assert close(look["plotFrame"][:3], border) and look["plotFrame"][3] == 255, look["plotFrame"]
    track = rgb(look["track"])
    assert close(track, border), (track, border)
    contrast = (max(luminance(track), luminance(background)) + 0.05) / (
        min(luminance(track), luminance(background)) + 0.05)
    assert contrast >= 1.3, f"{theme}: the slider's track ({track}) barely shows on {background}"
    # The canvas has no background of its own: the page's shows through, as a user sees it.
    assert look["corner"][3] == 0, look["corner"]
    box = app.page.locator("canvas.heatmap").bounding_box()
    shot = app.page.screenshot(clip={"x": box["x"] + box["width"] - 2, "y": box["y"] + box["height"] - 2,
                                     "width": 1, "height": 1})
    seen = Image.open(io.BytesIO(shot)).convert("RGB").getpixel((0, 0))
    assert close(seen, background), f"{theme}: the heatmap's corner shows {seen}, the page is {background}"
    return look


def test_the_live_heatmap_follows_a_theme_switched_in_the_menu_and_by_the_system(app):
    app.open_page("gram.py", "n=400")
    expect(app.page.locator("canvas.heatmap")).to_have_attribute("data-shown", "exact")
    light = assert_component_follows(app, "light")
    light_text = page_colors(app)["text"]

    choose_theme(app, "Dark")
    wait_repainted(app, light["frames"])
    dark = assert_component_follows(app, "dark")
    assert not close(page_colors(app)["text"], light_text, 60), "Streamlit's text did not change with the theme"
    assert not close(rgb(dark["border"]), rgb(light["border"]), 20)

    choose_theme(app, "Light")
    wait_repainted(app, dark["frames"])
    assert_component_follows(app, "light")

    # "System": the browser's colour scheme, followed live without a reload.
    choose_theme(app, "System")
    frames = component_look(app)["frames"]
    app.page.emulate_media(color_scheme="dark")
    wait_repainted(app, frames)
    assert_component_follows(app, "dark")
    app.assert_healthy()
