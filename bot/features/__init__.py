"""Layer 3, the features: check-ins and settings, hand-off and the coach's side, the crisis
answer, data rights. Each uses the core and the edge; no feature imports another."""
