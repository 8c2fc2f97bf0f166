"""Layer 5, the command line beside the bot: run, demo, check, graph, play, safety-check, backup."""
