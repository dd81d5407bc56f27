"""vmap explorer: the router. One `st.Page` per file in pages/, nothing else.

Each page draws the shared sidebar itself (ui.state.render_sidebar), so a page
works the same whether this router runs it or it runs alone.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# (title, Material icon, url path) per page file, in menu order.
PAGES = {
    "overview.py": ("Overview", ":material/home:", "overview"),
    "gram_explorer.py": ("Gram explorer", ":material/grid_on:", "gram"),
    "batching_race.py": ("Batching race", ":material/speed:", "race"),
    "vmap_anatomy.py": ("vmap anatomy", ":material/account_tree:", "anatomy"),
    "gradients.py": ("Gradients", ":material/trending_down:", "gradients"),
    "precision_lab.py": ("Precision lab", ":material/science:", "precision"),
    "kernel_lab.py": ("Kernel lab", ":material/tune:", "kernels"),
    "scale.py": ("Scale", ":material/zoom_out_map:", "scale"),
}

st.set_page_config(page_title="vmap explorer", page_icon=":material/grid_on:", layout="wide")

here = Path(__file__).parent / "pages"
files = sorted(here.glob("*.py"), key=lambda p: (list(PAGES).index(p.name) if p.name in PAGES else 99, p.name))
pages = []
for i, path in enumerate(files):
    title, icon, url = PAGES.get(path.name, (path.stem.replace("_", " ").capitalize(), None, path.stem))
    pages.append(st.Page(f"pages/{path.name}", title=title, icon=icon, url_path=url, default=i == 0))
st.navigation(pages).run()
