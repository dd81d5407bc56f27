"""Light and dark, wide and narrow: what the e2e tests read of a theme, and the screenshots.

Streamlit 1.67's default theme ("System" in its main menu) follows the browser's
`prefers-color-scheme`, live: a Playwright context made with `color_scheme="dark"`
loads the app dark, and `page.emulate_media(color_scheme=...)` or the main menu's
Light / Dark items switch a page that is already open.

Colours are read as a user sees them: computed styles of Streamlit's own elements,
and the pixels of the screenshot written.
"""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from tests.e2e.app_page import VIEWPORT, AppPage, expect

__all__ = [
    "SHOT_HEIGHT",
    "THEMES",
    "WIDTHS",
    "assert_no_horizontal_scroll",
    "assert_theme",
    "choose_theme",
    "luminance",
    "page_colors",
    "rgb",
    "shoot_widths",
]

DOCS = Path(__file__).resolve().parents[2] / "docs"  # where the README's pictures live
THEMES = ("light", "dark")
WIDTHS = (1440, 800)  # a laptop, and a narrow window (issue 11)
SHOT_HEIGHT = 900  # the screenshots are the viewport (the first screen), not the whole page


def rgb(css: str) -> tuple[int, int, int]:
    """(r, g, b) of a CSS colour as computed styles give it ("rgb(1, 2, 3)", "rgba(…)", "#0a0b0c")."""
    css = css.strip()
    if css.startswith("#"):
        h = css[1:]
        h = "".join(c * 2 for c in h) if len(h) in (3, 4) else h
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    r, g, b = (int(float(v)) for v in re.findall(r"[\d.]+", css)[:3])
    return r, g, b


def luminance(color: tuple[int, int, int]) -> float:
    """Relative luminance (WCAG 2, sRGB) in [0, 1]: 0 black, 1 white."""
    def lin(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def page_colors(app: AppPage) -> dict[str, tuple[int, int, int]]:
    """The app's background, its sidebar's (the theme's secondary background, also the inputs'
    and code blocks') and the colour of its body text and page title, as drawn."""
    background = app.page.get_by_test_id("stApp").evaluate("e => getComputedStyle(e).backgroundColor")
    sidebar = app.page.get_by_test_id("stSidebar").evaluate("e => getComputedStyle(e).backgroundColor")
    text = app.main.get_by_test_id("stMarkdown").first.evaluate("e => getComputedStyle(e).color")
    title = app.main.get_by_role("heading", level=1).first.evaluate("e => getComputedStyle(e).color")
    return {"background": rgb(background), "sidebar": rgb(sidebar), "text": rgb(text),
            "title": rgb(title)}


def assert_theme(app: AppPage, theme: str) -> dict[str, tuple[int, int, int]]:
    """The page really is `theme`: dark background and light text in "dark", the reverse
    in "light", with a contrast ratio of at least 7 (WCAG AAA for body text)."""
    c = page_colors(app)
    bg, text, title = (luminance(c[k]) for k in ("background", "text", "title"))
    if theme == "dark":
        assert bg < 0.05 and text > 0.6 and title > 0.6, f"not dark: {c}"
    else:
        assert bg > 0.9 and text < 0.1 and title < 0.1, f"not light: {c}"
    ratio = (max(bg, text) + 0.05) / (min(bg, text) + 0.05)
    assert ratio >= 7, f"body text contrast {ratio:.1f} in {theme}: {c}"
    return c


def assert_no_horizontal_scroll(app: AppPage, width: int) -> None:
    """Nothing scrolls sideways at this width: neither the document nor the main area
    (Streamlit scrolls the main area, not the document). Scroll boxes of their own
    (code blocks, tables) may scroll; the page may not."""
    doc = app.page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    main = app.main.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert doc[0] <= doc[1], f"the page scrolls sideways at {width} px: scrollWidth {doc[0]} > {doc[1]}"
    assert main[0] <= main[1], f"the main area scrolls sideways at {width} px: scrollWidth {main[0]} > {main[1]}"


def _most_common_colour(path: Path) -> tuple[tuple[int, int, int], float]:
    """The colour covering most of the picture, and its share of the pixels."""
    with Image.open(path) as im:
        small = im.convert("RGB").reduce(4)  # every 4 × 4 block averaged: plenty for a share
    n, colour = max(small.getcolors(small.width * small.height))
    return colour, n / (small.width * small.height)


def _share(path: Path, colour: tuple[int, int, int]) -> float:
    """The share of the picture (4 × 4 blocks averaged) within 2 of `colour` in each channel."""
    with Image.open(path) as im:
        small = im.convert("RGB").reduce(4)
    counts = small.getcolors(small.width * small.height)
    near = sum(n for n, c in counts if max(abs(a - b) for a, b in zip(c, colour)) <= 2)
    return near / (small.width * small.height)


def _save_small(path: Path) -> None:
    """Rewrite the PNG with a 256-colour palette (3–4× smaller; the colour bars band a
    little): 40 pictures stay near 2 MB in docs/screenshots."""
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def _kept(path: Path) -> bool:
    """Whether `path` is one of the repository's own pictures (docs/screenshots under
    VMAP_REFRESH_SCREENSHOTS=1), not a test run's temporary file."""
    return DOCS in path.resolve().parents


def shoot_widths(app: AppPage, folder: Path, name: str, theme: str) -> list[Path]:
    """At each of WIDTHS: resize the window (no reload), check the page as a user would
    (no exception box, no sideways scroll, the theme's colours) and write
    `<folder>/<name>_<width>_<theme>.png`, the first SHOT_HEIGHT px of the window (as a
    256-colour PNG where it is kept in docs/; a temporary one is left as shot).

    The picture's most common colour is one of the theme's two backgrounds (the app's, or
    the secondary one of the sidebar, inputs and code: with the sidebar open at 800 px, a
    page that opens on a code box is mostly that), and the app's background covers at
    least a fifth of it: a page drawn in the other theme fails here.
    Restores the tests' usual VIEWPORT afterwards.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for width in WIDTHS:
            app.page.set_viewport_size({"width": width, "height": SHOT_HEIGHT})
            # Charts re-lay out to the new width. No attribute or event marks the end of a
            # re-layout (Plotly redraws from a resize handler, over a few frames): pause.
            app.page.wait_for_timeout(300)
            app.wait_idle()
            assert app.exceptions() == [], app.exceptions()
            assert_no_horizontal_scroll(app, width)
            colours = assert_theme(app, theme)
            app.page.mouse.move(width // 2, 2)  # over nothing: no tooltip, no sidebar button
            path = folder / f"{name}_{width}_{theme}.png"
            app.page.screenshot(path=str(path), animations="disabled")
            colour, share = _most_common_colour(path)
            near = lambda a, b: max(abs(x - y) for x, y in zip(a, b)) <= 2  # noqa: E731
            background = _share(path, colours["background"])
            assert (near(colour, colours["background"]) or near(colour, colours["sidebar"])) \
                and background > 0.2, (f"{path.name}: most common colour {colour} ({share:.0%}), "
                                       f"background {colours['background']} ({background:.0%})")
            if _kept(path):
                _save_small(path)
            written.append(path)
    finally:
        app.page.set_viewport_size(VIEWPORT)
    return written


def choose_theme(app: AppPage, label: str) -> None:
    """Pick "Light", "Dark" or "System" in Streamlit's main menu (⋮, top right), as a user does."""
    app.page.get_by_test_id("stMainMenu").click()
    item = app.page.get_by_role("menuitemradio", name=label)
    item.click()
    if item.is_visible():  # the menu may stay open after a theme pick
        app.page.keyboard.press("Escape")
    expect(item).to_be_hidden()
