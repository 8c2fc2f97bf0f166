"""The Telegram bot, in layers: edge/ (Telegram I/O), core/ (one client event through the
engine), features/ (check-ins, hand-off, crisis, data rights), routing/ (which handler gets which
update; building the Application) and cli/ (the `coachbot` command). See docs/architecture.md."""
