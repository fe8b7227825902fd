"""Visual reports of an evaluated run: score curves, ROC/PR curves, top anomalous frames, report.md.

Everything takes a plain frame table (``video, frame, score, label[, filled]``), so it does not
matter which model (or fusion) produced the score. Figures are drawn with matplotlib's Agg canvas
directly (no pyplot state, no display needed) and written atomically.
"""
