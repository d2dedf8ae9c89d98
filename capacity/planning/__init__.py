"""From calendar and rates to replicas: demand, funders' clamps, shortfall, the plan kernel, monthly budgets
above the kernel, and period plans above both. Pure functions on numpy arrays; `now` is always a parameter.
"""
