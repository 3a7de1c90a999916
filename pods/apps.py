from django.apps import AppConfig


class PodsConfig(AppConfig):
    name = "pods"
    verbose_name = "Pods and people"
