from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from users.models import User


@admin.register(User)
class RoleUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "is_staff")
    list_editable = ("role",)
    fieldsets = (*UserAdmin.fieldsets, ("Marketplace", {"fields": ("role", "avatar")}))
