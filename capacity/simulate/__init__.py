"""Season replay: the same demand trace through capctl and the alternatives (issue 6)."""
