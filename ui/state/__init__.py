"""The app's state: the shared sidebar, its Streamlit-free settings, the URL binding,
the per-session caches and the checks that stop long work when the user moves on."""
