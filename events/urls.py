from django.urls import path

from events import views

app_name = "events"
urlpatterns = [
    path("", views.event_list, name="list"),
    path("events/past/", views.past_events, name="past"),
    path("events/<slug:slug>/", views.event_detail, name="detail"),
    path("events/<slug:slug>/calendar.ics", views.event_calendar, name="calendar"),
    path("events/<slug:slug>/documents/<int:pk>/", views.event_document, name="document"),
]
