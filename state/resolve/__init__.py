"""Resolve: APP_ENV and where it came from, the env file read as Compose reads it, the
environment table, the project and its name.
"""
