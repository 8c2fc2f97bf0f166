"""dialogues."""
