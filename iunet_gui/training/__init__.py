"""Training and inference engine (torch, no Qt)."""
