"""Data layer: frame sources, dataset layouts, labels, frame cache, clips and the DataModule."""
