"""The pods app's part of the HTTP API: serializers and viewsets, routed in ``urls.py``."""
