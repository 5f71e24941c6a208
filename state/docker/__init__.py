"""The Docker adapter: the one choke point running `docker` and `docker compose`, its
arguments, inspect parsing, logs, events, error classes, time bounds and the
engine's endpoint.
"""
