"""vmap explorer: the router. One `st.Page` per file in pages/, nothing else.

Each page draws the shared sidebar itself (ui.sidebar.render_sidebar), so a page
works the same whether this router runs it or it runs alone.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.page_index import PAGES

st.set_page_config(page_title="vmap explorer", page_icon=":material/grid_on:", layout="wide")

files = {p.name for p in (Path(__file__).parent / "pages").glob("*.py")}
ordered = [f for f in PAGES if f in files] + sorted(files - set(PAGES))
pages = []
for i, name in enumerate(ordered):
    info = PAGES.get(name)
    title, icon, url = (info.title, info.icon, info.url_path) if info else (name[:-3], None, name[:-3])
    pages.append(st.Page(f"pages/{name}", title=title, icon=icon, url_path=url, default=i == 0))
st.navigation(pages).run()
