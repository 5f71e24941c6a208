"""`just bench`: the side-by-side benchmark of reconcile against Compose's own commands.

synthetic (the generated project) -> tools (how each tool is run) -> scenarios
(alternating timings) -> stats -> report (tables, JSON); idle (the real stack's idle
CPU), planner (plan() alone at scale), stack (the real stack's stop targets).
Timings live here only, never in tests.
"""
