"""The Speaker admin: organisers see and edit the speakers of their teams' events."""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from events import access, services
from events.models import AgendaItem, Speaker


@admin.register(Speaker)
class SpeakerAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "organisation", "events"]
    search_fields = ["name", "organisation", "title"]
    # The event count's GROUP BY drops Meta.ordering, so the agenda's speaker autocomplete
    # would page an unordered list (and warn); order explicitly.
    ordering = ["name", "pk"]

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .annotate(event_total=Count("agenda_items__event", distinct=True))
        )
        if access.is_site_admin(request.user):
            return queryset
        # Organisers see the speakers of their events and those on no agenda yet.
        speaking = AgendaItem.speakers.through.objects
        mine = speaking.filter(agendaitem__event_id__in=access.event_ids_for(request.user))
        return queryset.filter(
            Q(pk__in=mine.values("speaker_id")) | ~Q(pk__in=speaking.values("speaker_id"))
        )

    def has_module_permission(self, request):
        return access.is_organiser(request.user)

    def has_view_permission(self, request, obj=None):
        return access.is_organiser(request.user)

    def has_add_permission(self, request):
        return access.is_manager(request.user)

    def has_change_permission(self, request, obj=None):
        return access.is_manager(request.user)

    def has_delete_permission(self, request, obj=None):
        return access.is_site_admin(request.user)

    @admin.display(description=_("events"), ordering="event_total")
    def events(self, obj):
        return obj.event_total

    def save_model(self, request, obj, form, change):
        services.save_speaker(speaker=obj)
