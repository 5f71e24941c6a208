"""The Swarm adapter: the engine port on a swarm manager, its records and the stack
rendering.
"""
