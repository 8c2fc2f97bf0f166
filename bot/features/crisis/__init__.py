"""The answer to a danger signal: help lines at once, the caring question, the coach alerted."""
