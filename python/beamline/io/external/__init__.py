"""Beam's cross-language transforms that beamline runs natively."""
