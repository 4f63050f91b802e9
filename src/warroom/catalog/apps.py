from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "warroom.catalog"
    label = "catalog"
    verbose_name = "Service catalog"
