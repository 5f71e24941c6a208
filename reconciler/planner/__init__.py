"""The planner: DesiredState x ObservedState -> Plan. Pure: no I/O, nothing imported
that does any.
"""
