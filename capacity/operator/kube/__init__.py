"""Kubernetes adapters: the API seam, the actuator (the only writer), Lease election, state, observation, Events."""
