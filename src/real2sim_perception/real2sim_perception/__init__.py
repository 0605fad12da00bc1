"""real2sim_perception."""
