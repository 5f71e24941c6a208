"""The frozen values the planner reads: DesiredState, ObservedState and content
digests.
"""
