"""Dialogue policies of the SenMart bot, registered by module path in config.yml."""
