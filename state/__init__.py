"""What should run and what runs.

The read side of the pipeline (resolve -> desire/observe -> plan -> apply -> render):
APP_ENV resolution, the environment table, DesiredState and ObservedState, and the
engine interface their readers take. Never imports `reconciler`.
"""
