from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics and targets"

    def ready(self):
        from . import signals, targets_csv

        signals.connect()
        targets_csv.register()
