"""The content studio: content staff edit FAQ answers, promotions and training data, train and publish.

Served by the handoff service (same staff web server as the agent console) under /studio; see
docs/studio.md for the pages, the API and where each part lives.
"""
