"""Testing helpers, at Beam's module paths."""
