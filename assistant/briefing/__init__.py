"""briefing stage."""
