"""The staff service: one Sanic app that mounts the handoff routes (agent console, internal ticket API,
chat page) and the content studio (pages, API, Rasa's NLG and model server). `staff.app.create_app` is
the composition root: it reads the settings, builds the Redis client and wires handoff/ and studio/
together; those two packages never import each other."""
