"""Notifications: a command told about each apply's outcome and each drift the watch sees."""
