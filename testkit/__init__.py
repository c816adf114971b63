"""Tools the tests and the benchmarks share: a customer's socket.io client and the local stand-ins for
Meta's Graph API and Zalo's OA APIs. Never imported by the services, never copied into an image."""
