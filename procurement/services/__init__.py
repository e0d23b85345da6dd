"""Procurement rules. Services add and flush, never commit; they raise DomainError subclasses.

- ``common``: who may see and act on a unit (membership, unit roles, administrators' regions)
- ``units``: creating and registering units, the approval state machine, the unit tree, assistance relations
- ``members``: unit members and their roles, delivery addresses
- ``plans``: annual unit plans, administrators' figures and regional guiding plans
- ``employees``: the employee link (职工个人) and promotion codes (帮助销售)
"""
