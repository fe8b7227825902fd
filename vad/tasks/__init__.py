"""The work behind the entry scripts: train, predict and ensemble."""
