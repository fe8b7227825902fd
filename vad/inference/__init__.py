"""Streaming inference on any footage: sources, clip cutting, scoring, alarms and annotation."""
