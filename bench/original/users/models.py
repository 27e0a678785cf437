from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """Django's user with the original's role and optional avatar URL."""

    class Role(models.TextChoices):
        USER = "USER", "User"
        CREATOR = "CREATOR", "Creator"

    role = models.CharField(max_length=10, choices=Role.choices, default=Role.USER)
    avatar = models.URLField(blank=True, null=True)
