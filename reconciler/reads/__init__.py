"""One command's reads: resolve -> desire/observe -> plan, each input read once; the
config cache, the content stage and the backend choice.
"""
