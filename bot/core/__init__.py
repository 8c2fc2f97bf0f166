"""Layer 2, the conversation core: one client event through the engine into SQLite, showing a
step and the menu, the schedule, consent, and the coach channel that several features share.
Imports the edge, never a feature."""
