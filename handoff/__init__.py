"""SenMart human handoff service: tickets, agent console API, relay to Rasa (see docs/handoff.md)."""
