"""Test doubles and real-component fixtures (Prometheus server, fake Kubernetes API, tool binaries)."""
