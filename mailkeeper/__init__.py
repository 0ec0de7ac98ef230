"""mailkeeper: keeps long-standing customers from drifting away."""

__version__ = "0.1.0"
