"""Execute a plan: the executor, its stages, the runners (Compose, swarm) with their
health gate, retries and outcomes.
"""
