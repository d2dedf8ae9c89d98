"""The in-cluster operator: settings and config reload, decide & lookahead (pure), live usage, one tick
(controller), the loop (runner), the composition root (wiring) and the Kubernetes adapters (kube/).
"""
