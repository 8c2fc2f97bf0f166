"""Layer 1, the Telegram edge: configuration, logging, sending Bot API calls with their error
handling, per-client update ordering, the webhook. Imports nothing of bot/ above it."""
