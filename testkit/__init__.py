"""Tools the tests and the benchmarks share: a customer's socket.io client and the local stand-in for
Meta's Graph API. Never imported by the services, never copied into an image."""
