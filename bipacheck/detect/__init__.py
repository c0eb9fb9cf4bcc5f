"""Face detectors behind one small interface (see base.Detector)."""
