"""Models: one folder per architecture (pure torch module + Lightning module) on a shared base."""
