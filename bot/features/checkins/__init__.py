"""Daily check-ins, weekly reflections with the mood chart, follow-ups, and /instellingen."""
