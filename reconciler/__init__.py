"""The reconciler: from the states to effects (plan -> apply -> render), and the CLI.

Pipeline: resolve -> desire/observe (package `state`) -> plan -> apply -> render. A
folder per concept; dependencies run one way, top to bottom (tests/unit/test_boundaries.py):
  cli/       click commands, options, the engines they build, exit codes, redaction
  watch/     the self-healing loop, its feed of events and input edits, its words
  commands/  converge (plan/apply/restart/status), teardown (stop/down/logs), rollback
  reads/     one command's reads, each input once: the backend, the config cache, content
  render/    plans, outcomes and status as text or versioned JSON
  execute/   the executor, its stages, the runners (Compose, swarm), retries, outcomes
  store/     where files are kept, atomic writes, the lock, the journal, saved plans
  planner/   desired x observed -> plan (pure)
"""
