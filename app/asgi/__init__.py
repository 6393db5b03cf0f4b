"""Plain ASGI layers in front of the FastAPI app: what every request needs, done once."""
