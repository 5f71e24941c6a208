"""`reconcile watch`: the loop, its feed of engine events and input edits, and its
words.
"""
