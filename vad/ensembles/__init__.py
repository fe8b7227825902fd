"""Ensembles: fuse the per-frame scores of several models and tune the fusion without leakage.

members     score files, read and validated once per process; same-frames check
stats       training statistics of a member's model (train_* normalisations)
normalize   each member's normalised anomaly score (incl. per-video ranks)
fusion      weighted mean, weighted rank mean, max
pipeline    members -> fused, per-video smoothed frame table
splits      tune/eval videos and k folds by video
evaluation  tune objective, held-out metrics, per-fold metrics
sweep       Hydra callback: sweep summary, best config, nested cross-validation
figure      member curves and the fused curve per video; report: report.md
submission  Id,Predicted file
"""
