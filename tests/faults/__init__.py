"""Faults injected with real tools: servers killed and restarted, a proxy that loses replies."""
