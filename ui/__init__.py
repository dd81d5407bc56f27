"""Streamlit-side code shared by the pages, one job per folder: the app's state
(`ui.state`: sidebar, settings, URL binding, caches), what the pages draw
(`ui.charts`, one module per page, and `ui.components`), per-server work
(`ui.server`), the exports (`ui.export`) and the menu (`ui.page_index`)."""
