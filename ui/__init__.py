"""Streamlit-side helpers shared by the pages: the sidebar (ui.sidebar) and its
Streamlit-free settings (ui.settings), URL notices (ui.url), caching, long work, charts."""
