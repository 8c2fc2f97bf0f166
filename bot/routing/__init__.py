"""Layer 4, routing: which handler gets which update (handlers.py), and building the
Application with every feature wired in (application.py)."""
