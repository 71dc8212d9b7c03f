"""Panels and caches that more than one page uses (a sub-folder, so that Streamlit never lists them as pages)."""
