"""Command line entry points (the top layer, with ``vad.tasks``)."""
