"""The reconciler: plan (pure), apply (effects through the engine port), CLI, rendering.

Pipeline: resolve -> desire/observe (package `state`) -> plan -> apply -> render.
"""
