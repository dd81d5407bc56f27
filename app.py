"""vmap explorer: the router. One `st.Page` per entry of ui.page_index.PAGES, nothing else.

Each page draws the shared sidebar itself (ui.state.sidebar.render_sidebar), so a page
works the same whether this router runs it or it runs alone. The page files live
in app_pages/, not pages/ (why: ui/page_index.py).
"""

from __future__ import annotations

from launch.cpu_devices import split_cpu_into_devices

split_cpu_into_devices()  # before anything imports JAX: one CPU device per core (launch/cpu_devices.py)

from ui.server.compile_cache import enable_compilation_cache  # noqa: E402
from ui.server.startup_profile import profile_if_asked  # noqa: E402

enable_compilation_cache()  # before the first compilation: programs kept on disk (ui/server/compile_cache.py)
profile_if_asked()  # VMAP_PROFILE_COMPILES=<file>: compile and import times (benchmarks/first_visit.py)

import streamlit as st  # noqa: E402

from ui.page_index import PAGES, PAGES_DIR  # noqa: E402
from ui.state.url import page_run  # noqa: E402
from ui.server.warmup import page_running, start_warmup  # noqa: E402

# "auto" (Streamlit 1.67): the sidebar starts collapsed when the window is at most 768 px
# wide (its "md" breakpoint) and open above; a user's own open/close is remembered by the
# browser. Streamlit has no other threshold (st.columns stack at 640 px and below): below
# 1000 px the sidebar is collapsed once per session by ui/components/narrow_sidebar.py.
st.set_page_config(page_title="vmap explorer", page_icon=":material/grid_on:", layout="wide",
                   initial_sidebar_state="auto")

(home_file, home), *others = PAGES.items()
# Streamlit serves the default page at "/" only: its url_path is "".
home_page = st.Page(f"{PAGES_DIR}/{home_file}", title=home.title, icon=home.icon, url_path="",
                    default=True)


def _to_home() -> None:
    """/<home url_path> (e.g. /overview) leads to "/" with the same query, not to "Page not found"."""
    st.switch_page(home_page, query_params=st.query_params.to_dict())


pages = [home_page] + [st.Page(f"{PAGES_DIR}/{file}", title=info.title, icon=info.icon,
                               url_path=info.url_path) for file, info in others]
pages.append(st.Page(_to_home, title=home.title, url_path=home.url_path, visibility="hidden"))
page = st.navigation(pages)
try:
    with page_running(), page_run(page.url_path):  # a page switch keeps the controls' values (ui/state/url.py)
        page.run()
finally:
    # Once per server, after the first visitor's page is drawn: the other pages' programs
    # compiled in the background (ui/server/warmup.py; VMAP_WARMUP=0 turns it off).
    start_warmup()
