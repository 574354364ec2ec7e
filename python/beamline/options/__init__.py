"""Pipeline options, at Beam's module path."""
