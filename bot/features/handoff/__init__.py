"""The hand-off to the human coach: the client's side (client.py) and the coach's (coach.py)."""
