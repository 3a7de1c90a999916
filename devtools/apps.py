from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """``seed_demo`` and ``benchmark`` (public commands, INTERCHANGE.md "Commands"); no models."""

    name = "devtools"
    verbose_name = "Developer tools"
