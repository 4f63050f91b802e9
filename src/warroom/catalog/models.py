"""Services: what alerts and incidents are about, owned by a team, depending on each other."""

from __future__ import annotations

from django.db import models

from warroom.accounts.models import Team


class Tier(models.IntegerChoices):
    TIER_1 = 1, "Tier 1 (mission critical)"
    TIER_2 = 2, "Tier 2 (business critical)"
    TIER_3 = 3, "Tier 3 (business operational)"
    TIER_4 = 4, "Tier 4 (administrative)"


class Service(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.TIER_3)
    runbook_url = models.URLField(blank=True)
    dashboard_url = models.URLField(blank=True)
    repository_url = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dependencies = models.ManyToManyField(
        "self", symmetrical=False, through="ServiceDependency", related_name="dependents", blank=True
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="service_unique_name"),
            models.CheckConstraint(condition=models.Q(tier__gte=1, tier__lte=4), name="service_tier_range"),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceDependency(models.Model):
    """``service`` depends on ``depends_on``: when ``depends_on`` breaks, ``service`` may break too."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="dependency_links")
    depends_on = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="dependent_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "depends_on"], name="service_dependency_unique"),
            models.CheckConstraint(
                condition=~models.Q(service=models.F("depends_on")), name="service_dependency_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} → {self.depends_on}"
