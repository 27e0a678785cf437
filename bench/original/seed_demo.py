"""Create the tables and the demo data the local stack also has (run by `make bench` in a copy of this folder).

The first two events are the ones the reference answers list, so check_reference.py can compare them."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
django.setup()

from django.core.management import call_command  # noqa: E402 - needs django.setup()
from events.models import Event  # noqa: E402
from users.models import User  # noqa: E402

call_command("migrate", verbosity=0)
creator = User.objects.create_user("creator_user", email="", password="password", role=User.Role.CREATOR)
User.objects.create_user("user", email="user@example.com", password="password")
User.objects.create_superuser("admin", email="admin@example.com", password="password")
for title, description in (
    ("Advanced Django", "Deep dive"),
    ("F", "form"),
    ("Data modelling for DynamoDB", "Access patterns first, tables second."),
):
    Event.objects.create(title=title, description=description, creator=creator)
