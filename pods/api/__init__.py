"""The pods app's part of the HTTP API: serializers and viewsets, registered in ``uce/api_router.py``."""
