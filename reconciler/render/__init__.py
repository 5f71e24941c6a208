"""Render: plans, outcomes and status as text for people or versioned JSON for scripts."""
