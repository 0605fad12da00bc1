"""Tests of real2sim_perception (plain pytest, no ROS)."""
