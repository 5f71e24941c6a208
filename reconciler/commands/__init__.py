"""The commands over the engine port: converge (plan/apply), teardown (stop/down/logs),
rollback.
"""
