"""Streamlit-side helpers shared by the pages: sidebar state, caching, charts."""
