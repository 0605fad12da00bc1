"""panda_executor."""
