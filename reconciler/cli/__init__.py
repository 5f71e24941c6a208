"""The `reconcile` command line: click commands, options, the engines they build, exit
codes, redaction.
"""
