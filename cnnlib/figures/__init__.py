"""Plotly figures, one module per page plus the shared image grid: numpy in, ``go.Figure`` out.

Nothing here imports TensorFlow or Streamlit; every word a figure shows comes from ``cnnlib.text``.
"""
