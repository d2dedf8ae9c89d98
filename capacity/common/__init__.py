"""The bottom layer: one exception hierarchy, the one safe YAML seam, the time grid. Imports nothing of capctl."""
