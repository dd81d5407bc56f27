"""The very first visitor of a freshly started server, on each kind of address.

With a `pages/` folder beside app.py, Streamlit ran the first script run of the
server's life through its legacy file-based discovery: the first visitor of
/gram got a "Page not found" pop-up over the right page, the first visitor of
/overview the legacy menu of file names (until someone opened /). The pages now
live in app_pages/ (why: ui/page_index.py). Only a server's first visit showed
it, so each case here starts its own server.
"""

from __future__ import annotations

import pytest

from tests.e2e.app_page import APP_PAGES, VIEWPORT, AppPage, expect, page_url_path
from tests.e2e.server import run_server

pytestmark = pytest.mark.e2e

# {case: (address opened, query, address shown after, the page's title)}
CASES = {
    "deep link": ("race", "n=150&dataset=Two%20moons", "race", "Batching race"),
    "the default page by its name": ("overview", "dataset=Two%20moons", "", "vmap explorer"),
    "the root": ("", "dataset=Two%20moons", "", "vmap explorer"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_fresh_servers_first_visitor_gets_the_page_asked_for(browser, case):
    path, query, shown_path, title = CASES[case]
    with run_server() as server:
        context = browser.new_context(viewport=VIEWPORT)
        try:
            for visitor in ("first", "second"):
                app = AppPage(context.new_page(), server.url).open(path, query)
                assert app.modals() == [], (visitor, app.modals())  # no "Page not found"
                expect(app.main.get_by_role("heading", level=1).first).to_have_text(title)
                assert app.page.url.split("?")[0].rstrip("/") == f"{server.url}/{shown_path}".rstrip("/")
                assert app.query()["dataset"] == "Two moons", app.query()  # the query came along
                assert app.selected("Dataset") == "Two moons"
                # The app's own menu, every page at its address, not a legacy one of file names.
                assert app.nav_addresses() == [page_url_path(f) for f in APP_PAGES], visitor
                app.assert_healthy()
                app.page.close()
        finally:
            context.close()
