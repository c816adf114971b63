"""Tools the tests and the benchmarks share: a customer's socket.io client, the local stand-ins for Meta's
Graph API and Zalo's OA APIs, the settings of a whole system on free ports (local_system.py) and polling
for what another process does (polling.py). Never imported by the services, never copied into an image."""
