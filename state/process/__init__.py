"""Running engine commands: bounded in time, and independent reads at once."""
