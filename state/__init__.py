"""What should run and what runs: the read side of the pipeline, and the engine port.

Pipeline: resolve -> desire/observe -> plan -> apply -> render (the last three in
package `reconciler`, which this package never imports). Folders, lowest first:
  process/   engine commands bounded in time, independent reads at once
  engine.py  the engine port (Protocols), errors.py, secrets.py
  resolve/   the project's inputs read once, APP_ENV, the environment table, the project
  model/     DesiredState, ObservedState, content digests (frozen values)
  docker/    the Docker adapter: its one choke point, Compose calls, inspect, logs, events
  swarm/     the Swarm adapter: the manager's choke point, records, stack rendering
"""
