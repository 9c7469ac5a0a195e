"""Federation planning: from a model's compiled SQL to per-input extractions and engine SQL."""
