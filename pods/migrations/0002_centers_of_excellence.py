"""Seed the three centers of excellence named in PRODUCT.md."""

from django.db import migrations

CENTERS = [
    ("data-analytics", "Data & Analytics", "Dashboards, data pipelines and measurement for every pod."),
    ("customer-insights", "Customer Insights & Positioning", "Research, personas and messaging across buying jobs."),
    ("creative-digital", "Creative & Digital Experience", "Content, web, self-serve and digital campaigns."),
]


def create_centers(apps, schema_editor):
    CenterOfExcellence = apps.get_model("pods", "CenterOfExcellence")
    for slug, name, description in CENTERS:
        CenterOfExcellence.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})


def remove_centers(apps, schema_editor):
    apps.get_model("pods", "CenterOfExcellence").objects.filter(slug__in=[c[0] for c in CENTERS]).delete()


class Migration(migrations.Migration):
    dependencies = [("pods", "0001_initial")]

    operations = [migrations.RunPython(create_centers, remove_centers)]
