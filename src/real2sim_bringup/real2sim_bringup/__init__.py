"""real2sim_bringup: launch files, bag recording, HTML report and the one-command demo."""
