"""real2sim_policy."""
