from django.urls import path

from registration import proof_of_work, views

app_name = "registration"
urlpatterns = [
    path("events/<slug:slug>/register/", views.register, name="register"),
    path("events/<slug:slug>/register/check-email/", views.check_email, name="check_email"),
    path("r/<str:token>/", views.manage, name="manage"),
    path("r/<str:token>/cancel/", views.cancel, name="cancel"),
    path("r/<str:token>/verify/", views.verify, name="verify"),
    path("privacy/", views.privacy, name="privacy"),
    path("proof-of-work/challenge/", proof_of_work.challenge, name="pow_challenge"),
]
