from django.shortcuts import render
from django.utils import timezone

from events.models import Event


def event_list(request):
    events = Event.objects.filter(status=Event.Status.PUBLISHED, ends_at__gte=timezone.now())
    return render(request, "events/event_list.html", {"events": events})
